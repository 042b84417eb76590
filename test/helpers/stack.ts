import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { JobView } from '../../src/client/client.js';
import { createClient } from '../../src/client/client.js';

export const root = resolve(import.meta.dirname, '../..');
export const bin = join(root, 'bin/jobshift.js');
export const fixturesModule = join(root, 'test/fixtures/jobs.ts');

/** Which backends the end-to-end suite runs against: JOBSHIFT_TEST_PROFILE=embedded | postgres | aws. */
export const profile = (process.env.JOBSHIFT_TEST_PROFILE ?? 'embedded') as 'embedded' | 'postgres' | 'aws';

/**
 * Short leases so that recovery happens within a test's patience; longer on the emulator, whose
 * answers slow down under the load of parallel suites (a lease must outlive a slow heartbeat).
 */
export const leaseSeconds = profile === 'aws' ? 4 : 2;
export const heartbeatSeconds = 0.5;

export const fastEnv = {
  JOBSHIFT_LEASE_SECONDS: String(leaseSeconds),
  JOBSHIFT_HEARTBEAT_SECONDS: String(heartbeatSeconds),
  JOBSHIFT_RECONCILE_INTERVAL_SECONDS: '0.5',
  JOBSHIFT_WAKE_IDLE_SECONDS: '5',
  JOBSHIFT_POLL_INTERVAL_MS: '50',
  JOBSHIFT_LOG_FORMAT: 'json',
  JOBSHIFT_LOG_LEVEL: 'info',
  JOBSHIFT_JOBS: fixturesModule,
  JOBSHIFT_PORT: '0',
};

/** Backend settings for one test's data dir: each test gets its own schema, or queue/table/bucket. */
export function profileEnv(dataDir: string): Record<string, string> {
  const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  if (profile === 'postgres') {
    return {
      JOBSHIFT_STORE: 'postgres',
      JOBSHIFT_QUEUE: 'postgres',
      JOBSHIFT_DATABASE_URL: process.env.JOBSHIFT_TEST_DATABASE_URL ?? '',
      JOBSHIFT_POSTGRES_SCHEMA: `e2e_${id}`,
    };
  }
  if (profile === 'aws') {
    return {
      JOBSHIFT_STORE: 'dynamodb',
      JOBSHIFT_QUEUE: 'sqs',
      JOBSHIFT_ARTIFACTS: 's3',
      JOBSHIFT_SQS_QUEUE: `js-${id}`,
      JOBSHIFT_DYNAMODB_TABLE: `js-${id}`,
      JOBSHIFT_S3_BUCKET: `js-${id}`,
      JOBSHIFT_AWS_ENDPOINT: process.env.JOBSHIFT_TEST_AWS_ENDPOINT ?? '',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
    };
  }
  return {};
}

const dataDirOf = (args: string[]) => {
  const i = args.indexOf('--data-dir');
  return i >= 0 ? args[i + 1] : undefined;
};
const envFor = (args: string[], env: Record<string, string>) => {
  const dataDir = dataDirOf(args);
  return { ...process.env, ...fastEnv, ...(dataDir ? profileEnv(dataDir) : {}), ...env };
};

const prepared = new Map<string, Promise<unknown>>();
/** Creates the profile's queue/table/bucket for a data dir once (`jobshift init`). */
export function prepareProfile(dataDir: string): Promise<unknown> {
  if (profile !== 'aws') return Promise.resolve();
  let done = prepared.get(dataDir);
  if (!done) {
    done = promisify(execFile)(process.execPath, [bin, 'init', '--data-dir', dataDir], { cwd: root, env: envFor(['--data-dir', dataDir], {}) });
    prepared.set(dataDir, done);
  }
  return done;
}

export const tempDir = (prefix = 'jobshift-e2e-') => mkdtempSync(join(tmpdir(), prefix));

export interface JobshiftProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first stderr/stdout line matching, or rejects after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnJobshift(args: string[], env: Record<string, string> = {}, cwd = root): JobshiftProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: envFor(args, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text.split('\n').find((l) => pattern.test(l));
          if (line !== undefined) {
            cleanup();
            resolve(line);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before ${pattern}: ${text.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${text.slice(-2000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Starts a process with the API role and returns its base URL. */
export async function startWithApi(command: 'dev' | 'api', dataDir: string, env: Record<string, string> = {}, cwd = root) {
  await prepareProfile(dataDir);
  const proc = spawnJobshift([command, '--data-dir', dataDir], env, cwd);
  const line = await proc.waitFor(/API listening on/);
  const url = /(http:\/\/[^"\s]+)/.exec(line)?.[1];
  if (!url) throw new Error(`no URL in ${line}`);
  return { proc, url };
}

export async function startWorker(dataDir: string, env: Record<string, string> = {}) {
  await prepareProfile(dataDir);
  const proc = spawnJobshift(['worker', '--data-dir', dataDir], env);
  const line = await proc.waitFor(/worker started|lambda runtime started/);
  const workerId = (JSON.parse(line) as { workerId: string }).workerId;
  return { proc, workerId };
}

export async function runCli(args: string[], env: Record<string, string> = {}) {
  const dataDir = dataDirOf(args);
  if (dataDir) await prepareProfile(dataDir);
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], {
    cwd: root,
    env: envFor(args, env),
  });
  return { stdout, stderr };
}

export async function createKey(dataDir: string, tenant: string): Promise<string> {
  const { stdout } = await runCli(['keys', 'create', '--tenant', tenant, '--data-dir', dataDir]);
  return stdout.trim();
}

export function clientFor(url: string, apiKey: string) {
  return createClient({ baseUrl: url, apiKey });
}

export async function stopProcess(proc: JobshiftProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  return proc.exited;
}

export async function waitUntil<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const isTerminal = (job: JobView) => ['succeeded', 'failed', 'cancelled'].includes(job.status);
