import { mkdtempSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManualClock } from '../../core/clock.js';
import { claimingQueueJob } from '../../ports/claiming-queue.conformance.js';
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

describe('SQLite job history', () => {
  const openStore = (path: string, clock = createManualClock()) => createSqliteJobStore({ db: openSqliteDatabase(path), clock, ownsDatabase: true });

  it('orders transitions and handler lines written in the same millisecond as they were written', async () => {
    const store = openStore(join(mkdtempSync(join(tmpdir(), 'jobshift-history-')), 'jobs.db'));
    const { job } = await store.createJob(claimingQueueJob(0));
    await store.claimJob(job.id, { workerId: 'w1', leaseMs: 1000 });
    await store.appendLog(job.id, 1, 'a');
    await store.releaseJob(job.id, 1, 'test');
    await store.claimJob(job.id, { workerId: 'w1', leaseMs: 1000 });
    await store.appendLog(job.id, 2, 'b');
    await store.appendLog(job.id, 2, 'c');
    await store.completeJob(job.id, 2, { result: null, artifacts: [] });
    expect((await store.getLogs(job.id)).map((l) => l.message)).toEqual([
      'queued', 'claimed by w1 (attempt 1)', 'a', 'handed back (test)', 'claimed by w1 (attempt 2)', 'b', 'c', 'succeeded',
    ]);
    await store.close();
  });

  it('upgrades a database written before the history column: old lines first, new ones after, none lost', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'jobshift-upgrade-')), 'jobs.db');
    // The previous version's schema and rows: every line, transitions too, in job_logs.
    const old = new Database(path);
    old.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, input TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0, attempts_charged INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,
        timeout_seconds REAL NOT NULL, run_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        started_at INTEGER, finished_at INTEGER, lease_expires_at INTEGER, worker_id TEXT, cancel_requested INTEGER NOT NULL DEFAULT 0,
        woken_at INTEGER, progress_percent REAL, progress_message TEXT, result TEXT, error TEXT, artifacts TEXT NOT NULL DEFAULT '[]',
        idempotency_key TEXT, request_hash TEXT);
      CREATE TABLE job_logs (seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL);
      INSERT INTO jobs (id, tenant, type, status, input, attempt, attempts_charged, max_attempts, timeout_seconds, run_at, created_at, updated_at, lease_expires_at, worker_id)
        VALUES ('job_old', 't1', 'test.echo', 'running', '{}', 1, 1, 3, 60, 0, 0, 0, 0, 'w0');
      INSERT INTO job_logs (job_id, attempt, at, level, message) VALUES ('job_old', 0, 0, 'system', 'queued'),
        ('job_old', 1, 0, 'system', 'claimed by w0 (attempt 1)'), ('job_old', 1, 0, 'info', 'old handler line');`);
    old.close();

    const clock = createManualClock();
    clock.advance(10);
    const store = openStore(path, clock);
    // The old worker died; its lease (expired at 0) is taken over, and the job finishes.
    expect(await store.claimJob('job_old', { workerId: 'w1', leaseMs: 1000 })).toMatchObject({ attempt: 2, status: 'running' });
    await store.appendLog('job_old', 2, 'new handler line');
    await store.completeJob('job_old', 2, { result: 'done', artifacts: [] });
    expect((await store.getLogs('job_old')).map((l) => l.message)).toEqual([
      'queued', 'claimed by w0 (attempt 1)', 'old handler line', 'claimed by w1 (attempt 2)', 'new handler line', 'succeeded',
    ]);
    expect(await store.getJob('job_old')).toMatchObject({ status: 'succeeded', result: 'done' });
    await store.close();
    // Opening it again changes nothing.
    const again = openStore(path, clock);
    expect(await again.getLogs('job_old')).toHaveLength(6);
    await again.close();
  });
});
