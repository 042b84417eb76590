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
  /** Jobs a worker claims ahead of a free slot while its handlers are short (0: none). */
  readonly prefetch: number;
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
  readonly store: 'sqlite' | 'postgres' | 'dynamodb';
  readonly queue: 'sqlite' | 'postgres' | 'sqs';
  readonly artifacts: 'fs' | 's3';
  readonly databaseUrl: string;
  readonly postgresSchema: string;
  readonly postgresPoolSize: number;
  readonly sqsQueue: string;
  readonly sqsDeadLetterQueue: string;
  readonly dynamodbTable: string;
  readonly s3Bucket: string;
  readonly awsEndpoint: string;
  readonly retentionDays: number;
  readonly presignSeconds: number;
  readonly artifactDownloads: 'redirect' | 'stream';
  readonly runtime: 'container' | 'lambda';
  /** Queue name per worker pool; the API and workers send each job to its type's pool. */
  readonly poolQueues: Readonly<Partial<Record<'lambda' | 'fargate' | 'ec2', string>>>;
  readonly lambdaTimeoutSeconds: number;
  readonly lambdaBatchSize: number;
  readonly lambdaBatchWindowSeconds: number;
  readonly lambdaMaxConcurrency: number;
  readonly lambdaVisibilitySeconds: number;
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
  prefetch: { flag: '--prefetch', env: ['JOBSHIFT_PREFETCH'], expected: 'an integer from 0 to 1000', parse: number(0, 1000, true), fallback: 8 },
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
  store: { flag: '--store', env: ['JOBSHIFT_STORE'], expected: 'sqlite, postgres or dynamodb', parse: oneOf('sqlite', 'postgres', 'dynamodb'), fallback: 'sqlite' },
  queue: { flag: '--queue', env: ['JOBSHIFT_QUEUE'], expected: 'sqlite, postgres or sqs', parse: oneOf('sqlite', 'postgres', 'sqs'), fallback: 'sqlite' },
  artifacts: { flag: '--artifacts', env: ['JOBSHIFT_ARTIFACTS'], expected: 'fs or s3', parse: oneOf('fs', 's3'), fallback: 'fs' },
  databaseUrl: { flag: '--database-url', env: ['JOBSHIFT_DATABASE_URL'], expected: 'a postgres:// connection URL', parse: text, fallback: '' },
  postgresSchema: {
    flag: '--postgres-schema',
    env: ['JOBSHIFT_POSTGRES_SCHEMA'],
    expected: 'a lowercase SQL identifier',
    parse: (raw) => (/^[a-z_][a-z0-9_]{0,62}$/.test(raw) ? raw : undefined),
    fallback: 'jobshift',
  },
  postgresPoolSize: { flag: '--postgres-pool-size', env: ['JOBSHIFT_POSTGRES_POOL_SIZE'], expected: 'an integer from 1 to 500', parse: number(1, 500, true), fallback: 10 },
  sqsQueue: { flag: '--sqs-queue', env: ['JOBSHIFT_SQS_QUEUE'], expected: 'an SQS queue name', parse: text, fallback: '' },
  sqsDeadLetterQueue: { flag: '--sqs-dlq', env: ['JOBSHIFT_SQS_DLQ'], expected: 'an SQS queue name (default <queue>-dlq)', parse: text, fallback: '' },
  dynamodbTable: { flag: '--dynamodb-table', env: ['JOBSHIFT_DYNAMODB_TABLE'], expected: 'a DynamoDB table name', parse: text, fallback: '' },
  s3Bucket: { flag: '--s3-bucket', env: ['JOBSHIFT_S3_BUCKET'], expected: 'an S3 bucket name', parse: text, fallback: '' },
  awsEndpoint: { flag: '--aws-endpoint', env: ['JOBSHIFT_AWS_ENDPOINT'], expected: 'an http(s) URL (emulators only)', parse: (raw) => (/^https?:\/\//.test(raw) ? raw : undefined), fallback: '' },
  retentionDays: { flag: '--retention-days', env: ['JOBSHIFT_RETENTION_DAYS'], expected: 'days, from 1 to 3650', parse: number(1, 3650, true), fallback: 30 },
  presignSeconds: { flag: '--presign-seconds', env: ['JOBSHIFT_PRESIGN_SECONDS'], expected: 'seconds, from 1 to 900', parse: number(1, 900, true), fallback: 300 },
  artifactDownloads: {
    flag: '--artifact-downloads',
    env: ['JOBSHIFT_ARTIFACT_DOWNLOADS'],
    expected: 'redirect (presigned URL where the artifact store can) or stream',
    parse: oneOf('redirect', 'stream'),
    fallback: 'redirect',
  },
  poolQueues: {
    flag: '--pool-queues',
    env: ['JOBSHIFT_POOL_QUEUES'],
    expected: 'JSON mapping pools to SQS queue names, e.g. {"lambda":"jobs-lambda","fargate":"jobs-fargate"}',
    parse: (raw) => {
      try {
        const value = JSON.parse(raw) as Record<string, unknown>;
        const entries = Object.entries(value);
        const valid = entries.every(([k, v]) => ['lambda', 'fargate', 'ec2'].includes(k) && typeof v === 'string' && v !== '');
        return typeof value === 'object' && value !== null && !Array.isArray(value) && valid ? (value as Config['poolQueues']) : undefined;
      } catch {
        return undefined;
      }
    },
    fallback: {},
  },
  runtime: { flag: '--runtime', env: ['JOBSHIFT_RUNTIME'], expected: 'container or lambda', parse: oneOf('container', 'lambda'), fallback: 'container' },
  lambdaTimeoutSeconds: { flag: '--lambda-timeout-seconds', env: ['JOBSHIFT_LAMBDA_TIMEOUT_SECONDS'], expected: 'seconds, from 1 to 900', parse: number(1, 900, true), fallback: 300 },
  lambdaBatchSize: { flag: '--lambda-batch-size', env: ['JOBSHIFT_LAMBDA_BATCH_SIZE'], expected: 'an integer from 1 to 10', parse: number(1, 10, true), fallback: 10 },
  lambdaBatchWindowSeconds: {
    flag: '--lambda-batch-window-seconds',
    env: ['JOBSHIFT_LAMBDA_BATCH_WINDOW_SECONDS'],
    expected: 'seconds, from 0 to 300',
    parse: number(0, 300, false),
    fallback: 0,
  },
  lambdaMaxConcurrency: { flag: '--lambda-max-concurrency', env: ['JOBSHIFT_LAMBDA_MAX_CONCURRENCY'], expected: 'an integer from 2 to 1000', parse: number(2, 1000, true), fallback: 2 },
  lambdaVisibilitySeconds: {
    flag: '--lambda-visibility-seconds',
    env: ['JOBSHIFT_LAMBDA_VISIBILITY_SECONDS'],
    expected: 'seconds, from 1 to 43200 (default 6 × the function timeout)',
    parse: number(1, 43_200, true),
    fallback: 0,
  },
} satisfies { [K in keyof Config]: Setting<unknown> };

/** Settings a chosen backend cannot do without. */
function backendProblems(config: Config): string[] {
  const problems: string[] = [];
  const need = (when: boolean, value: string, flag: string, env: string, why: string) => {
    if (when && !value) problems.push(`${flag} / ${env}: required when ${why}`);
  };
  const postgres = config.store === 'postgres' || config.queue === 'postgres';
  need(postgres, config.databaseUrl, '--database-url', 'JOBSHIFT_DATABASE_URL', 'the store or queue is postgres');
  need(config.queue === 'sqs', config.sqsQueue, '--sqs-queue', 'JOBSHIFT_SQS_QUEUE', 'the queue is sqs');
  need(config.store === 'dynamodb', config.dynamodbTable, '--dynamodb-table', 'JOBSHIFT_DYNAMODB_TABLE', 'the store is dynamodb');
  need(config.artifacts === 's3', config.s3Bucket, '--s3-bucket', 'JOBSHIFT_S3_BUCKET', 'artifacts are on s3');
  if (Object.keys(config.poolQueues).length > 0 && config.queue !== 'sqs') {
    problems.push(`--pool-queues / JOBSHIFT_POOL_QUEUES: pools route SQS queues; needs --queue sqs, got '${config.queue}'`);
  }
  if (config.runtime === 'lambda' && config.queue !== 'sqs') {
    problems.push(`--runtime lambda / JOBSHIFT_RUNTIME: needs --queue sqs (it emulates the SQS event source mapping), got '${config.queue}'`);
  }
  if (postgres && config.databaseUrl && !/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    problems.push(`--database-url / JOBSHIFT_DATABASE_URL: expected a postgres:// connection URL, got '${config.databaseUrl.replace(/:[^:@/]*@/, ':***@')}'`);
  }
  return problems;
}

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
  const config = values as unknown as Config & { jobsModule: string | null; dataDir: string; sqsDeadLetterQueue: string };
  if (config.lambdaVisibilitySeconds === 0) (config as { lambdaVisibilitySeconds: number }).lambdaVisibilitySeconds = 6 * config.lambdaTimeoutSeconds;
  if (!config.sqsDeadLetterQueue && config.sqsQueue) config.sqsDeadLetterQueue = `${config.sqsQueue}-dlq`;
  if (problems.length === 0 && config.heartbeatSeconds >= config.leaseSeconds) {
    problems.push(`--heartbeat-seconds (${config.heartbeatSeconds}) must be shorter than --lease-seconds (${config.leaseSeconds})`);
  }
  if (!config.databaseUrl && env.JOBSHIFT_DATABASE_SECRET) {
    const url = databaseUrlFromSecret(env.JOBSHIFT_DATABASE_SECRET);
    if (url) (config as { databaseUrl: string }).databaseUrl = url;
    else problems.push('JOBSHIFT_DATABASE_SECRET: expected the JSON of an RDS secret (username, password, host, port, dbname)');
  }
  if (problems.length === 0) problems.push(...backendProblems(config));
  config.dataDir = resolve(cwd, config.dataDir);
  config.jobsModule = resolveJobsModule(config.jobsModule, cwd, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** ECS injects a Secrets Manager secret as one variable holding its JSON; RDS secrets have these fields. */
function databaseUrlFromSecret(json: string): string | null {
  try {
    const s = JSON.parse(json) as { username?: string; password?: string; host?: string; port?: number; dbname?: string };
    if (!s.username || !s.password || !s.host) return null;
    const auth = `${encodeURIComponent(s.username)}:${encodeURIComponent(s.password)}`;
    return `postgres://${auth}@${s.host}:${s.port ?? 5432}/${encodeURIComponent(s.dbname ?? 'postgres')}`;
  } catch {
    return null;
  }
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
