import type { SqliteDatabase } from './database.js';
import { translateSqliteError } from './database.js';

interface Pending {
  run: () => unknown;
  /** The write is one statement and nothing after it can throw: no savepoint needed. */
  oneStatement: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const isBusy = (error: unknown) => /^SQLITE_BUSY/.test(String((error as { code?: unknown } | null)?.code ?? ''));

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface CommitOptions {
  /**
   * The write is at most one statement, and the step throws only before it or from it: SQLite
   * undoes a failing statement by itself, so the step needs no savepoint of its own (its
   * SAVEPOINT and RELEASE, and their journal's page copies, are saved).
   */
  oneStatement?: boolean;
}

export type GroupCommit = <T>(run: () => T, options?: CommitOptions) => Promise<T>;

const perDatabase = new WeakMap<SqliteDatabase, GroupCommit>();

/**
 * Group commit: every write asked for in the same event-loop turn runs in one IMMEDIATE
 * transaction, so one fsync (synchronous=FULL) covers all of them. Each write still runs in a
 * savepoint of its own (or is one statement, which SQLite undoes alone), so one failing write
 * (an idempotency conflict, a lost lease) rolls back alone, and every caller is answered only
 * after the commit — a promise that resolves means the write is durable, exactly as with one
 * transaction per write.
 */
export function groupCommitFor(db: SqliteDatabase): GroupCommit {
  let commit = perDatabase.get(db);
  if (!commit) {
    commit = createGroupCommit(db);
    perDatabase.set(db, commit);
  }
  return commit;
}

function createGroupCommit(db: SqliteDatabase): GroupCommit {
  let pending: Pending[] = [];
  let scheduled = false;
  // Prepared once: db.transaction() per write would build a new wrapper (and parse its SQL) each time.
  const savepoint = db.prepare('SAVEPOINT group_item');
  const release = db.prepare('RELEASE group_item');
  const rollback = db.prepare('ROLLBACK TO group_item');
  const runAll = db.transaction((batch: Pending[], outcomes: Outcome[]) => {
    for (const item of batch) {
      if (item.oneStatement) {
        try {
          outcomes.push({ ok: true, value: item.run() });
        } catch (error) {
          outcomes.push({ ok: false, error });
          // An I/O or memory error can make SQLite roll back the whole transaction: then the
          // batch fails as one (the later steps must not run outside it, each its own commit).
          if (!db.inTransaction) throw error;
        }
        continue;
      }
      savepoint.run();
      try {
        outcomes.push({ ok: true, value: item.run() });
        release.run();
      } catch (error) {
        if (!db.inTransaction) throw error;
        rollback.run();
        release.run();
        outcomes.push({ ok: false, error });
      }
    }
  });

  // Another process holding the write lock: rather than SQLite's busy handler, which sleeps the
  // whole event loop (1, 2, 5, 10 ms...), the flush is retried from a timer, so heartbeats and
  // requests go on meanwhile. The connection's busy_timeout still bounds the total wait.
  // (busy_timeout takes effect when its PRAGMA is prepared, so it cannot be a prepared statement.)
  const busyBudgetMs = Number(db.pragma('busy_timeout', { simple: true }));
  let busySince = 0;

  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    const outcomes: Outcome[] = [];
    try {
      db.pragma('busy_timeout = 0');
      try {
        runAll.immediate(batch, outcomes);
      } finally {
        db.pragma(`busy_timeout = ${busyBudgetMs}`);
      }
    } catch (error) {
      const busy = isBusy(error);
      if (busy && busySince === 0) busySince = Date.now();
      if (busy && Date.now() - busySince < busyBudgetMs) {
        // Nothing was committed: try the batch again first, with whatever arrives meanwhile.
        pending = batch.concat(pending);
        scheduled = true;
        setTimeout(flush, 1);
        return;
      }
      busySince = 0;
      // The commit itself failed (locked too long or full disk): nothing in the batch is durable.
      const translated = translateSqliteError(error);
      for (const item of batch) item.reject(translated);
      return;
    }
    busySince = 0;
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(translateSqliteError(outcome?.error));
    });
  };

  return <T>(run: () => T, options?: CommitOptions) =>
    new Promise<T>((resolve, reject) => {
      pending.push({ run, oneStatement: options?.oneStatement === true, resolve: resolve as (value: unknown) => void, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}
