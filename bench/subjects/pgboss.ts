import { createRequire } from 'node:module';
import PgBoss from 'pg-boss';
import type { Subject } from './types.js';
import { offerAtRate, pool } from './types.js';

const require = createRequire(import.meta.url);

/**
 * pg-boss 10 on PostgreSQL. Its workers sleep the polling interval (0.5 s at least) after every
 * fetch, so throughput comes from batch fetch: `min(concurrency, 10)` workers each fetching up to
 * 100 jobs, the batch handled concurrently.
 */
export function pgbossSubject(databaseUrl: string): Subject {
  let boss: PgBoss | undefined;
  let round = 0;
  let name = '';
  let completed = 0;
  const start = async () => {
    boss = new PgBoss({ connectionString: databaseUrl, schema: `pgboss_bench_${process.pid}`, max: 20 });
    boss.on('error', () => {});
    await boss.start();
    name = `bench-${++round}`;
    await boss.createQueue(name);
    return boss;
  };
  return {
    name: 'pg-boss',
    async describe() {
      return {
        version: (require('pg-boss/package.json') as { version: string }).version,
        pollingIntervalSeconds: 0.5,
        workers: 'min(concurrency, 10)',
        batchSize: 100,
      };
    },
    async reset() {
      await boss?.stop({ graceful: false, wait: true }).catch(() => {});
      await start();
    },
    async enqueue(count, inFlight) {
      const b = boss ?? (await start());
      await pool(count, inFlight, (i) => b.send(name, { i }));
    },
    enqueueBulk: (count) =>
      (async () => {
        const b = boss ?? (await start());
        for (let i = 0; i < count; i += 1000) await b.insert(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ name, data: { i: i + j } })));
      })(),
    async drain(count, concurrency) {
      const b = boss ?? (await start());
      // Counted across drains: offWork returns before its workers stop, and a stopping worker may
      // still fetch and complete a batch that the next drain must count.
      const target = completed + count;
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (completed >= target) {
            clearInterval(check);
            resolve();
          }
        }, 5);
        for (let w = 0; w < Math.min(concurrency, 10); w++) {
          void b.work(name, { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
            await Promise.all(jobs.map(async () => null));
            completed += jobs.length;
          });
        }
      });
      await b.offWork(name);
    },
    async latency(rate, seconds, concurrency) {
      const b = boss ?? (await start());
      const started: number[] = [];
      for (let w = 0; w < Math.min(concurrency, 10); w++) {
        await b.work(name, { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
          for (const job of jobs) started[(job.data as { i: number }).i] = performance.now();
        });
      }
      try {
        return await offerAtRate(rate, seconds, started, (i) => b.send(name, { i }));
      } finally {
        await b.offWork(name);
      }
    },
    backlog: async () => (boss ? boss.getQueueSize(name) : 0),
    async close() {
      await boss?.stop({ graceful: false, wait: true }).catch(() => {});
    },
  };
}
