import { describe } from 'vitest';
import { testDatabaseUrl, uniqueName } from '../../../test/helpers/services.js';
import { createManualClock } from '../../core/clock.js';
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
});
