import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdempotencyMismatchError, StoreUnavailableError } from '../../core/errors.js';
import { openSqliteDatabase } from './database.js';
import { groupCommitFor } from './group-commit.js';
import { createSqliteJobStore } from './sqlite-job-store.js';

const job = (id: string, key?: string, hash = 'h') => ({
  id,
  tenant: 't1',
  type: 'x.y',
  input: {},
  maxAttempts: 1,
  timeoutSeconds: 1,
  runAt: Date.now(),
  ...(key ? { idempotency: { key, requestHash: hash } } : {}),
});

const open = () => openSqliteDatabase(join(mkdtempSync(join(tmpdir(), 'jobshift-group-')), 'db.sqlite'));

describe('group commit', () => {
  it('commits the writes of one event-loop turn in a single transaction', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'jobshift-group-')), 'db.sqlite');
    const db = openSqliteDatabase(path);
    db.exec('CREATE TABLE t (n INTEGER)');
    const reader = openSqliteDatabase(path);
    const commit = groupCommitFor(db);
    const seenByOtherConnection: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        commit(() => {
          db.prepare('INSERT INTO t (n) VALUES (?)').run(n);
          // Another connection sees only committed data: still nothing while the batch runs.
          seenByOtherConnection.push((reader.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c);
          return n;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(seenByOtherConnection).toEqual(Array.from({ length: 50 }, () => 0));
    expect((reader.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c).toBe(50);
    reader.close();
    db.close();
  });

  it('rolls back a failing write alone and answers it with its own error', async () => {
    const db = open();
    const store = createSqliteJobStore({ db });
    const outcomes = await Promise.allSettled([
      store.createJob(job('job_a', 'same-key', 'h1')),
      store.createJob(job('job_b', 'same-key', 'h2')),
      store.createJob(job('job_c', 'other', 'h3')),
    ]);
    expect(outcomes[0]).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.any(IdempotencyMismatchError) });
    expect(outcomes[2]).toMatchObject({ status: 'fulfilled', value: { created: true } });
    expect(await store.getJob('job_b')).toBeNull();
    expect(await store.getJob('job_c')).not.toBeNull();
    db.close();
  });
});

describe('one-statement writes', () => {
  it('commit without a savepoint: a failing one is undone by SQLite alone, the rest of its batch commits', async () => {
    const db = open();
    db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, note TEXT NOT NULL)');
    const commit = groupCommitFor(db);
    const insert = db.prepare('INSERT INTO t (n, note) VALUES (?, ?)');
    const outcomes = await Promise.allSettled([
      commit(() => insert.run(1, 'first'), { oneStatement: true }),
      // Fails inside the statement (NOT NULL): SQLite backs it out, the transaction goes on.
      commit(() => insert.run(2, null), { oneStatement: true }),
      commit(() => insert.run(1, 'duplicate'), { oneStatement: true }),
      commit(() => {
        insert.run(3, 'with a savepoint');
        throw new Error('after the write');
      }),
      commit(() => insert.run(4, 'last'), { oneStatement: true }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    expect(db.prepare('SELECT n, note FROM t ORDER BY n').all()).toEqual([
      { n: 1, note: 'first' },
      { n: 4, note: 'last' },
    ]);
    db.close();
  });
});

describe('bulk create', () => {
  it('writes a batch all or nothing', async () => {
    const db = open();
    const store = createSqliteJobStore({ db });
    await store.createJob(job('job_existing', 'taken', 'h1'));
    await expect(store.createJobs([job('job_1'), job('job_2', 'taken', 'h2'), job('job_3')])).rejects.toBeInstanceOf(IdempotencyMismatchError);
    for (const id of ['job_1', 'job_2', 'job_3']) expect(await store.getJob(id)).toBeNull();
    const created = await store.createJobs([job('job_1'), job('job_3')]);
    expect(created.map((r) => r.job.id)).toEqual(['job_1', 'job_3']);
    db.close();
  });
});

/** A database with one table, whose write lock another connection (as another process would) holds. */
function lockedByAnother(busyTimeoutMs: number) {
  const path = join(mkdtempSync(join(tmpdir(), 'jobshift-group-')), 'db.sqlite');
  const db = openSqliteDatabase(path, { busyTimeoutMs });
  db.exec('CREATE TABLE t (n INTEGER)');
  const other = openSqliteDatabase(path);
  other.prepare('BEGIN IMMEDIATE').run();
  return { db, other };
}

describe("waiting for another process's write lock", () => {
  it('retries from a timer, so the event loop keeps running, and commits once the lock is free', async () => {
    const { db, other } = lockedByAnother(2000);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    const write = groupCommitFor(db)(() => db.prepare('INSERT INTO t (n) VALUES (1)').run().changes);
    await new Promise((resolve) => setTimeout(resolve, 200));
    other.prepare('COMMIT').run();
    expect(await write).toBe(1);
    clearInterval(ticker);
    // SQLite's own busy handler would have slept the thread for the whole 200 ms.
    expect(ticks).toBeGreaterThan(10);
    other.close();
    db.close();
  });

  it('gives up after busy_timeout with StoreUnavailableError, having written nothing', async () => {
    const { db, other } = lockedByAnother(100);
    await expect(groupCommitFor(db)(() => db.prepare('INSERT INTO t (n) VALUES (1)').run())).rejects.toBeInstanceOf(StoreUnavailableError);
    other.prepare('COMMIT').run();
    expect((db.prepare('SELECT count(*) AS c FROM t').get() as { c: number }).c).toBe(0);
    // The next write goes through once the lock is free.
    await groupCommitFor(db)(() => db.prepare('INSERT INTO t (n) VALUES (2)').run());
    expect((other.prepare('SELECT n FROM t').all() as { n: number }[]).map((r) => r.n)).toEqual([2]);
    other.close();
    db.close();
  });
});
