import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { JobshiftError } from '../core/errors.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Everything a process needs, parsed once at start from flags and JOBSHIFT_* variables. */
export interface Config {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  readonly leaseSeconds: number;
  readonly heartbeatSeconds: number;
  readonly drainSeconds: number;
  readonly abortGraceSeconds: number;
  readonly reconcileIntervalSeconds: number;
  readonly wakeIdleSeconds: number;
  readonly pollIntervalMs: number;
  readonly sqliteBusyTimeoutMs: number;
  readonly maxUploadBytes: number;
  readonly maxJsonBodyBytes: number;
  readonly jobsModule: string | null;
  readonly logLevel: LogLevel;
  readonly logFormat: 'json' | 'pretty';
}

export class ConfigError extends JobshiftError {
  constructor(readonly problems: string[]) {
    super('invalid_config', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

type Parser<T> = (raw: string) => T | undefined;

interface Setting<T> {
  flag: string;
  env: readonly string[];
  expected: string;
  parse: Parser<T>;
  fallback: T | (() => T);
}

const number =
  (min: number, max: number, integer: boolean): Parser<number> =>
  (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) return undefined;
    if (integer && !Number.isInteger(value)) return undefined;
    return value;
  };
const text: Parser<string> = (raw) => (raw.trim() === '' ? undefined : raw);
const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) =>
    (values as string[]).includes(raw) ? (raw as T) : undefined;

const seconds = (min: number) => number(min, 86_400, false);

const settings = {
  dataDir: { flag: '--data-dir', env: ['JOBSHIFT_DATA_DIR'], expected: 'a directory path', parse: text, fallback: '.jobshift' },
  host: { flag: '--host', env: ['JOBSHIFT_HOST'], expected: 'a host name or IP address', parse: text, fallback: '127.0.0.1' },
  port: { flag: '--port', env: ['JOBSHIFT_PORT', 'PORT'], expected: 'an integer from 0 to 65535', parse: number(0, 65_535, true), fallback: 8080 },
  concurrency: { flag: '--concurrency', env: ['JOBSHIFT_CONCURRENCY'], expected: 'an integer from 1 to 1000', parse: number(1, 1000, true), fallback: 4 },
  leaseSeconds: { flag: '--lease-seconds', env: ['JOBSHIFT_LEASE_SECONDS'], expected: 'seconds, at least 1', parse: seconds(1), fallback: 30 },
  heartbeatSeconds: { flag: '--heartbeat-seconds', env: ['JOBSHIFT_HEARTBEAT_SECONDS'], expected: 'seconds, at least 0.1', parse: seconds(0.1), fallback: 10 },
  drainSeconds: { flag: '--drain-seconds', env: ['JOBSHIFT_DRAIN_SECONDS'], expected: 'seconds, at least 0', parse: seconds(0), fallback: 25 },
  abortGraceSeconds: { flag: '--abort-grace-seconds', env: ['JOBSHIFT_ABORT_GRACE_SECONDS'], expected: 'seconds, at least 0', parse: seconds(0), fallback: 2 },
  reconcileIntervalSeconds: {
    flag: '--reconcile-interval-seconds',
    env: ['JOBSHIFT_RECONCILE_INTERVAL_SECONDS'],
    expected: 'seconds, at least 0.1',
    parse: seconds(0.1),
    fallback: 5,
  },
  wakeIdleSeconds: { flag: '--wake-idle-seconds', env: ['JOBSHIFT_WAKE_IDLE_SECONDS'], expected: 'seconds, at least 1', parse: seconds(1), fallback: 60 },
  pollIntervalMs: { flag: '--poll-interval-ms', env: ['JOBSHIFT_POLL_INTERVAL_MS'], expected: 'an integer from 10 to 10000', parse: number(10, 10_000, true), fallback: 100 },
  sqliteBusyTimeoutMs: {
    flag: '--sqlite-busy-timeout-ms',
    env: ['JOBSHIFT_SQLITE_BUSY_TIMEOUT_MS'],
    expected: 'an integer from 0 to 600000',
    parse: number(0, 600_000, true),
    fallback: 5000,
  },
  maxUploadBytes: {
    flag: '--max-upload-bytes',
    env: ['JOBSHIFT_MAX_UPLOAD_BYTES'],
    expected: 'a positive integer number of bytes',
    parse: number(1, Number.MAX_SAFE_INTEGER, true),
    fallback: 512 * 1024 * 1024,
  },
  maxJsonBodyBytes: {
    flag: '--max-json-body-bytes',
    env: ['JOBSHIFT_MAX_JSON_BODY_BYTES'],
    expected: 'a positive integer number of bytes',
    parse: number(1, 100 * 1024 * 1024, true),
    fallback: 1024 * 1024,
  },
  jobsModule: { flag: '--jobs', env: ['JOBSHIFT_JOBS'], expected: 'a path to a module exporting job definitions', parse: text, fallback: '' },
  logLevel: { flag: '--log-level', env: ['JOBSHIFT_LOG_LEVEL'], expected: 'debug, info, warn or error', parse: oneOf('debug', 'info', 'warn', 'error'), fallback: 'info' },
  logFormat: {
    flag: '--log-format',
    env: ['JOBSHIFT_LOG_FORMAT'],
    expected: 'json or pretty',
    parse: oneOf('json', 'pretty'),
    fallback: () => (process.stderr.isTTY ? 'pretty' : 'json'),
  },
} satisfies { [K in keyof Config]: Setting<unknown> };

/** Flag names as commander reports them (camelCase of the long flag). */
export type ConfigFlags = Partial<Record<keyof Config, string | number | undefined>>;

/** Every setting with its flag, variables and expectation, for help texts. */
export const configSettings = (Object.entries(settings) as [keyof Config, Setting<unknown>][]).map(([key, s]) => ({
  key,
  flag: s.flag,
  env: s.env,
  expected: s.expected,
}));

/**
 * Parse flags (win) and environment variables into a frozen Config; every bad value is reported
 * at once, naming the flag, the variable and what was expected.
 */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(settings) as [keyof Config, Setting<unknown>][]) {
    const fromFlag = flags[name];
    const envName = setting.env.find((e) => env[e] !== undefined && env[e] !== '');
    const raw = fromFlag !== undefined ? String(fromFlag) : envName ? env[envName] : undefined;
    if (raw === undefined) {
      values[name] = typeof setting.fallback === 'function' ? (setting.fallback as () => unknown)() : setting.fallback;
      continue;
    }
    const parsed = setting.parse(raw);
    if (parsed === undefined) {
      const source = fromFlag !== undefined ? setting.flag : `${envName} (${setting.flag})`;
      problems.push(`${source}: expected ${setting.expected}, got '${raw}'`);
    } else values[name] = parsed;
  }
  const config = values as unknown as Config & { jobsModule: string | null; dataDir: string };
  if (problems.length === 0 && config.heartbeatSeconds >= config.leaseSeconds) {
    problems.push(`--heartbeat-seconds (${config.heartbeatSeconds}) must be shorter than --lease-seconds (${config.leaseSeconds})`);
  }
  config.dataDir = resolve(cwd, config.dataDir);
  config.jobsModule = resolveJobsModule(config.jobsModule, cwd, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

const conventionalConfigFiles = ['jobshift.config.ts', 'jobshift.config.mts', 'jobshift.config.js', 'jobshift.config.mjs'];

function resolveJobsModule(given: string | null, cwd: string, problems: string[]): string | null {
  if (given) {
    const path = resolve(cwd, given);
    if (!existsSync(path)) problems.push(`--jobs / JOBSHIFT_JOBS: expected an existing module, '${path}' does not exist`);
    return path;
  }
  const found = conventionalConfigFiles.map((f) => resolve(cwd, f)).find((p) => existsSync(p));
  return found ?? null;
}
