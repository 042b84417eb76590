import { createRequire } from 'node:module';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Subject } from './types.js';
import { offerAtRate, pool } from './types.js';

const require = createRequire(import.meta.url);
const chunk = (flat: string[]) => Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]] as const);

/**
 * BullMQ on Redis, as commonly deployed (default Redis persistence: periodic RDB snapshots, so an
 * acknowledged add can be lost), removeOnComplete. `fsync: true` is the durable variant for a
 * like-for-like comparison with jobshift: Redis's append-only file with `appendfsync always`
 * (every write fsynced before Redis answers), switched on for this subject and off after it.
 */
export function bullmqSubject(redisPort: number, options: { fsync?: boolean } = {}): Subject {
  // In ESM, BullMQ takes constructed clients; workers need their own (blocking) connection.
  const client = () => new Redis({ host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null });
  const connection = client();
  let round = 0;
  let queue = new Queue(`bench-${process.pid}-${round}`, { connection });
  const jobOptions = { removeOnComplete: true, removeOnFail: true };
  const persistence = async (aof: boolean) => {
    await connection.config('SET', 'appendfsync', aof ? 'always' : 'everysec');
    await connection.config('SET', 'appendonly', aof ? 'yes' : 'no');
    // Switching the AOF on rewrites it in the background; measure only once that is done.
    for (;;) {
      const info = await connection.info('persistence');
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  let persistenceSet = false;
  return {
    name: options.fsync ? 'bullmq-fsync' : 'bullmq',
    async describe() {
      if (options.fsync && !persistenceSet) {
        await persistence(true);
        persistenceSet = true;
      }
      const settings = await connection.config('GET', 'append*');
      return { version: (require('bullmq/package.json') as { version: string }).version, jobOptions, redis: Object.fromEntries(chunk(settings as string[])) };
    },
    async reset() {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      queue = new Queue(`bench-${process.pid}-${++round}`, { connection });
    },
    enqueue: (count, inFlight) => pool(count, inFlight, (i) => queue.add('noop', { i }, jobOptions)),
    enqueueBulk: (count) =>
      (async () => {
        for (let i = 0; i < count; i += 1000) {
          await queue.addBulk(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ name: 'noop', data: { i: i + j }, opts: jobOptions })));
        }
      })(),
    async drain(count, concurrency) {
      let done = 0;
      await new Promise<void>((resolve, reject) => {
        const workerConnection = client();
        const worker = new Worker(queue.name, async () => null, { connection: workerConnection, concurrency, autorun: true });
        worker.on('completed', () => {
          if (++done === count) void worker.close().then(() => workerConnection.quit().then(() => resolve()), reject);
        });
        worker.on('error', reject);
      });
    },
    async latency(rate, seconds, concurrency) {
      const started: number[] = [];
      const workerConnection = client();
      const worker = new Worker(
        queue.name,
        async (job) => {
          started[(job.data as { i: number }).i] = performance.now();
          return null;
        },
        { connection: workerConnection, concurrency, autorun: true },
      );
      await worker.waitUntilReady();
      try {
        return await offerAtRate(rate, seconds, started, (i) => queue.add('noop', { i }, jobOptions));
      } finally {
        await worker.close();
        await workerConnection.quit();
      }
    },
    backlog: () => queue.getWaitingCount(),
    async close() {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      if (persistenceSet) await persistence(false);
      await connection.quit();
    },
  };
}
