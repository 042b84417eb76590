import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '../../core/clock.js';
import { runJobStoreConformance } from '../../ports/job-store.conformance.js';
import { openSqliteDatabase } from './database.js';
import { createSqliteJobStore } from './sqlite-job-store.js';

runJobStoreConformance('sqlite', async () => {
  const clock = createManualClock();
  const db = openSqliteDatabase(join(mkdtempSync(join(tmpdir(), 'jobshift-store-')), 'jobs.db'));
  const store = createSqliteJobStore({ db, clock, ownsDatabase: true });
  return {
    store,
    now: () => clock.now(),
    advance: async (ms) => clock.advance(ms),
    close: () => store.close(),
    atomicBatches: true,
  };
});
