import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreUnavailableError } from '../../core/errors.js';

export type SqliteDatabase = Database.Database;

const schema = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 0,
  attempts_charged INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  timeout_seconds REAL NOT NULL,
  run_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  lease_expires_at INTEGER,
  worker_id TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  woken_at INTEGER,
  progress_percent REAL,
  progress_message TEXT,
  result TEXT,
  error TEXT,
  artifacts TEXT NOT NULL DEFAULT '[]',
  idempotency_key TEXT,
  request_hash TEXT,
  -- The job's transition log lines (queued, claimed, succeeded...), one JSON array per line:
  -- [at, attempt, message, log_count at the time]. Kept in the row every transition rewrites
  -- anyway, they cost no page of their own; the handler's lines go to job_logs.
  history TEXT NOT NULL DEFAULT '',
  -- How many job_logs rows the job has: where each history line falls among them.
  log_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_tenant_created ON jobs(tenant, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS jobs_queued_due ON jobs(run_at) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running_lease ON jobs(lease_expires_at) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS job_logs (
  seq INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_logs_job ON job_logs(job_id, seq);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  name TEXT,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS queue_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages(visible_at, id);
`;

export interface OpenOptions {
  /** How long a writer waits for another process's lock before giving up (503). @default 5000 */
  busyTimeoutMs?: number;
}

/**
 * Opens (and migrates) the embedded database. WAL lets readers run beside one writer;
 * synchronous=FULL makes every commit durable before it returns, which is what a 202 promises.
 */
export function openSqliteDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Statement journals (a multi-row write inside a savepoint) and ephemeral tables in memory,
    // not in temporary files: they are small and live for one statement.
    db.pragma('temp_store = MEMORY');
    // Several processes may migrate at once on first start; IMMEDIATE serialises them.
    db.transaction(() => {
      db.exec(schema);
      migrate(db);
    }).immediate();
    return db;
  } catch (error) {
    throw translateSqliteError(error);
  }
}

/**
 * Upgrades a database made by an earlier version in place. Before `history`, every transition
 * line was a job_logs row: they stay there, and `log_count` counts them so that later lines are
 * placed after them.
 */
function migrate(db: SqliteDatabase) {
  const columns = new Set((db.pragma('table_info(jobs)') as { name: string }[]).map((c) => c.name));
  if (!columns.has('history')) {
    db.exec(`ALTER TABLE jobs ADD COLUMN history TEXT NOT NULL DEFAULT '';
      ALTER TABLE jobs ADD COLUMN log_count INTEGER NOT NULL DEFAULT 0;
      UPDATE jobs SET log_count = (SELECT count(*) FROM job_logs WHERE job_logs.job_id = jobs.id);`);
  }
}

const transientCodes = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOMEM)/;

/** Driver errors become domain errors before they leave the adapter. */
export function translateSqliteError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && transientCodes.test(code)) {
    return new StoreUnavailableError(`embedded store unavailable (${code})`, { cause: error });
  }
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) {
    return new StoreUnavailableError('embedded store is closed', { cause: error });
  }
  return error;
}

/** Runs a synchronous database step, translating driver errors. */
export function guarded<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(translateSqliteError(error));
  }
}
