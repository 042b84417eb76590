import { describe } from 'vitest';
import { testDatabaseUrl, uniqueName } from '../../../test/helpers/services.js';
import { createManualClock } from '../../core/clock.js';
import { claimingQueueJob, runClaimingQueueConformance } from '../../ports/claiming-queue.conformance.js';
import { runJobQueueConformance } from '../../ports/job-queue.conformance.js';
import { runJobStoreConformance } from '../../ports/job-store.conformance.js';
import { openPostgres } from './database.js';
import { migratePostgres } from './migrations.js';
import { createPostgresJobQueue } from './postgres-job-queue.js';
import { createPostgresJobStore } from './postgres-job-store.js';

async function freshSchema() {
  const db = openPostgres({ connectionString: testDatabaseUrl as string, schema: uniqueName('t') });
  await migratePostgres(db);
  return db;
}

describe.skipIf(!testDatabaseUrl)('PostgreSQL adapters', () => {
  runJobStoreConformance('postgres', async () => {
    const clock = createManualClock();
    const db = await freshSchema();
    return {
      store: createPostgresJobStore({ db, clock }),
      now: () => clock.now(),
      advance: async (ms) => clock.advance(ms),
      close: () => db.close(),
      atomicBatches: true,
    };
  });

  runJobQueueConformance('postgres', async () => {
    const db = await freshSchema();
    const queue = createPostgresJobQueue({ db, pollIntervalMs: 100 });
    return {
      queue,
      close: async () => {
        await queue.close();
        await db.close();
      },
    };
  });

  runClaimingQueueConformance('postgres', async ({ pollIntervalMs }) => {
    const db = await freshSchema();
    // Another process: its own pool on the same schema.
    const other = openPostgres({ connectionString: testDatabaseUrl as string, schema: db.schema });
    const elsewhere = createPostgresJobStore({ db: other });
    const queue = createPostgresJobQueue({ db, pollIntervalMs, sharesStore: true });
    const separate = createPostgresJobQueue({ db, pollIntervalMs });
    return {
      store: createPostgresJobStore({ db }),
      queue,
      separate,
      createElsewhere: async (runAt) => (await elsewhere.createJob(claimingQueueJob(runAt))).job.id,
      messageCount: async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.table('queue_messages')}`)).rows[0]?.n ?? 0,
      close: async () => {
        await queue.close();
        await separate.close();
        await other.close();
        await db.close();
      },
    };
  });
});
