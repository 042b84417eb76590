import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/config.js';
import type { Backends } from '../../src/config/compose.js';
import { databasePath, openBackends } from '../../src/config/compose.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { systemClock } from '../../src/core/clock.js';
import { defineJob } from '../../src/core/define-job.js';
import type { SubmissionDeps } from '../../src/api/submissions.js';
import { submitJobs } from '../../src/api/submissions.js';
import { silentLogger } from '../../src/core/logger.js';
import { createRegistry } from '../../src/core/registry.js';
import { createInlineExecutor } from '../../src/worker/inline-executor.js';
import { maxInFlight, startPoller } from '../../src/worker/poller.js';
import { processJob } from '../../src/worker/process-job.js';
import { z } from 'zod';
import type { Subject } from './types.js';
import { offerAtRate, pool } from './types.js';

/** Set while measuring latency: called as each handler starts. */
let onStart: ((i: number) => void) | undefined;
const noop = defineJob({
  type: 'bench.noop',
  input: z.object({ i: z.number() }).strict(),
  handler: ({ i }) => {
    onStart?.(i);
    return null;
  },
});
const registry = createRegistry([noop]);

/**
 * jobshift through its library seams (submitJobs: the validation, durable write and wake-up the
 * HTTP routes run, without HTTP), drained by the container runtime's poller + processJob with the
 * inline executor (no-op handlers need no thread).
 */
export function jobshiftSubject(profile: 'embedded' | 'postgres', databaseUrl?: string): Subject {
  let dataDir = '';
  let backends: Backends | undefined;
  /** What submitJobs needs, built once per set of backends, as the API builds it once. */
  let submission: SubmissionDeps | undefined;
  /** Defaults but for the data directory (and the postgres profile's settings). */
  let config: Config | undefined;
  let schemaCounter = 0;
  const open = async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jobshift-bench-'));
    const env =
      profile === 'postgres'
        ? { JOBSHIFT_STORE: 'postgres', JOBSHIFT_QUEUE: 'postgres', JOBSHIFT_DATABASE_URL: databaseUrl ?? '', JOBSHIFT_POSTGRES_SCHEMA: `bench_${process.pid}_${schemaCounter++}`, JOBSHIFT_POSTGRES_POOL_SIZE: '20' }
        : {};
    config = loadConfig({ dataDir }, env);
    backends = await openBackends(config);
    submission = { ...backends, registry, clock: systemClock, logger: silentLogger };
    return backends;
  };
  /** The container runtime's poller + processJob, with its default prefetch; `onSucceeded` is called per job completed. */
  const startWorker = (b: Backends, concurrency: number, onSucceeded: () => void) => {
    const prefetch = config?.prefetch ?? 0;
    const shutdown = new AbortController();
    // Every job in flight listens for shutdown, as in the runtime.
    setMaxListeners(maxInFlight(concurrency, prefetch) + 10, shutdown.signal);
    const executor = createInlineExecutor({ registry, artifacts: b.artifacts });
    const deps = { ...b, executor, registry, clock: systemClock, logger: silentLogger, workerId: 'bench', leaseMs: 30_000, heartbeatMs: 10_000, shutdown: shutdown.signal };
    const poller = startPoller({
      queue: b.queue,
      concurrency,
      visibilityTimeoutSeconds: 30,
      waitTimeSeconds: 1,
      logger: silentLogger,
      claim: { workerId: 'bench', leaseMs: 30_000 },
      prefetch,
      process: async (delivery, slot) => {
        if ((await processJob(delivery, deps, { handlerSlot: slot.start, handlerDone: slot.done })) === 'succeeded') onSucceeded();
      },
    });
    return async () => {
      await poller.stopReceiving();
      await poller.waitForIdle(5000);
    };
  };
  /** One statement on a connection of its own, outside the measured backends. */
  const postgresQuery = async <R extends pg.QueryResultRow>(sql: string): Promise<R[]> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<R>(sql)).rows;
    } finally {
      await client.end();
    }
  };
  /** Closes the backends and removes what they stored (the data dir; the postgres profile's schema). */
  const discard = async () => {
    await backends?.close();
    backends = undefined;
    submission = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (profile === 'postgres' && config) await postgresQuery(`DROP SCHEMA IF EXISTS "${config.postgresSchema}" CASCADE`);
  };
  /** Opens the backends if need be; what submitJobs needs. */
  const submissionDeps = async () => {
    if (!backends) await open();
    return submission as SubmissionDeps;
  };
  const submit = (deps: SubmissionDeps, i: number) => submitJobs(deps, 'bench', [{ body: { type: 'bench.noop', input: { i } } }]);
  return {
    name: `jobshift-${profile}`,
    async describe() {
      return { profile, synchronous: profile === 'embedded' ? 'FULL (SQLite, WAL)' : 'PostgreSQL default (fsync on)', executor: 'inline' };
    },
    async reset() {
      await discard();
      await open();
    },
    async enqueue(count, inFlight) {
      const deps = await submissionDeps();
      await pool(count, inFlight, (i) => submit(deps, i));
    },
    async enqueueBulk(count) {
      const deps = await submissionDeps();
      for (let i = 0; i < count; i += 1000) {
        const jobs = Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ body: { type: 'bench.noop', input: { i: i + j } } }));
        await submitJobs(deps, 'bench', jobs, { batch: true });
      }
    },
    async drain(count, concurrency) {
      const b = backends ?? (await open());
      let done = 0;
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const stop = startWorker(b, concurrency, () => {
        if (++done >= count) finish();
      });
      await finished;
      await stop();
    },
    async latency(rate, seconds, concurrency) {
      const deps = await submissionDeps();
      const b = backends as Backends;
      const started: number[] = [];
      onStart = (i) => {
        started[i] = performance.now();
      };
      const stop = startWorker(b, concurrency, () => {});
      try {
        return await offerAtRate(rate, seconds, started, (i) => submit(deps, i));
      } finally {
        await stop();
        onStart = undefined;
      }
    },
    async backlog() {
      if (!backends) await open();
      if (profile === 'postgres') {
        const rows = await postgresQuery<{ n: number }>(`SELECT count(*)::int AS n FROM "${config?.postgresSchema}".jobs WHERE status = 'queued'`);
        return rows[0]?.n ?? 0;
      }
      const db = new Database(databasePath({ dataDir }), { readonly: true });
      try {
        return (db.prepare(`SELECT count(*) AS n FROM jobs WHERE status = 'queued'`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    },
    close: discard,
  };
}
