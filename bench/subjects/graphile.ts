import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Runner, WorkerUtils } from 'graphile-worker';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import type { Subject } from './types.js';
import { offerAtRate, pool } from './types.js';

const require = createRequire(import.meta.url);

/**
 * graphile-worker on PostgreSQL, with the batching its performance guide recommends for
 * throughput: a local queue of `concurrency + 1` jobs fetched (and locked) per query, and
 * completions batched (`completeJobBatchDelay: 0`). New jobs wake workers by LISTEN/NOTIFY;
 * the poll interval only matters for delayed jobs.
 */
export function graphileSubject(databaseUrl: string): Subject {
  const schema = `graphile_bench_${process.pid}`;
  const silent = new Logger(() => () => {});
  let utils: WorkerUtils | undefined;
  const common = { connectionString: databaseUrl, schema, logger: silent, maxPoolSize: 20 };
  const start = async () => {
    if (!utils) {
      utils = await makeWorkerUtils(common);
      await utils.migrate();
    }
    return utils;
  };
  const settings = (concurrency: number) => ({ localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0 });
  /** A runner at `concurrency` whose `noop` task calls `onJob`. */
  const runner = (concurrency: number, onJob: (payload: { i: number }) => void): Promise<Runner> =>
    run({
      ...common,
      concurrency,
      noHandleSignals: true,
      pollInterval: 500,
      taskList: {
        noop: async (payload) => {
          onJob(payload as { i: number });
        },
      },
      preset: { worker: settings(concurrency) },
    });
  const jobsTable = `"${schema}"._private_jobs`;
  return {
    name: 'graphile-worker',
    async describe() {
      return {
        // Its package.json is not among its exports: read it beside the resolved entry point.
        version: (JSON.parse(readFileSync(join(dirname(require.resolve('graphile-worker')), '../package.json'), 'utf8')) as { version: string }).version,
        pollInterval: 500,
        batching: { localQueueSize: 'concurrency + 1', completeJobBatchDelay: 0 },
      };
    },
    async reset() {
      const u = await start();
      await u.withPgClient((client) => client.query(`DELETE FROM ${jobsTable}`));
    },
    async enqueue(count, inFlight) {
      const u = await start();
      await pool(count, inFlight, (i) => u.addJob('noop', { i }));
    },
    async enqueueBulk(count) {
      const u = await start();
      for (let i = 0; i < count; i += 1000) {
        await u.addJobs(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ identifier: 'noop', payload: { i: i + j } })));
      }
    },
    async drain(count, concurrency) {
      await start();
      let done = 0;
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const r = await runner(concurrency, () => {
        done += 1;
        if (done >= count) finish();
      });
      await finished;
      await r.stop();
    },
    async latency(rate, seconds, concurrency) {
      const u = await start();
      const started: number[] = [];
      const r = await runner(concurrency, (payload) => {
        started[payload.i] = performance.now();
      });
      try {
        return await offerAtRate(rate, seconds, started, (i) => u.addJob('noop', { i }));
      } finally {
        await r.stop();
      }
    },
    async backlog() {
      const u = await start();
      const { rows } = await u.withPgClient((client) => client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${jobsTable} WHERE locked_at IS NULL`));
      return rows[0]?.n ?? 0;
    },
    async close() {
      if (utils) {
        await utils.withPgClient((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => {});
        await utils.release();
      }
    },
  };
}
