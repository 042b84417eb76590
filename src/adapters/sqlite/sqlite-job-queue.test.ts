import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJobQueueConformance } from '../../ports/job-queue.conformance.js';
import { openSqliteDatabase } from './database.js';
import { createSqliteJobQueue } from './sqlite-job-queue.js';

runJobQueueConformance('sqlite', async () => {
  const db = openSqliteDatabase(join(mkdtempSync(join(tmpdir(), 'jobshift-queue-')), 'queue.db'));
  return { queue: createSqliteJobQueue({ db, pollIntervalMs: 50 }), close: async () => void db.close() };
});
