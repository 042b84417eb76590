import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { ConflictError, IdempotencyMismatchError, LeaseLostError, NotFoundError } from '../../core/errors.js';
import type { Job, LogLine, WakeUp } from '../../core/job.js';
import type { ClaimOptions, CreateJobResult, JobPage, JobStore, ListJobsQuery, NewJob } from '../../ports/job-store.js';
import { decodeCursor, encodeCursor } from '../../ports/cursor.js';
import type { SqliteDatabase } from './database.js';
import { guarded } from './database.js';
import { groupCommitFor } from './group-commit.js';
import type { JobRow as SqlJobRow } from '../sql-rows.js';
import { rowToJob } from '../sql-rows.js';

type JobRow = SqlJobRow<string, number>;
type Statement = ReturnType<SqliteDatabase['prepare']>;

const toJob = (row: JobRow): Job => rowToJob(row, { json: (text) => JSON.parse(text), bool: (flag) => flag === 1 });

const jobColumns = [
  'id', 'tenant', 'type', 'status', 'input', 'attempt', 'attempts_charged', 'max_attempts', 'timeout_seconds', 'run_at',
  'created_at', 'updated_at', 'started_at', 'finished_at', 'lease_expires_at', 'worker_id', 'cancel_requested',
  'progress_percent', 'progress_message', 'result', 'error', 'artifacts', 'request_hash',
] as const satisfies readonly (keyof JobRow)[];

/**
 * Reads whole job rows as arrays: better-sqlite3 builds a wide row object about three times
 * slower than an array, and claims read one per job on the hot path.
 */
function jobRows(statement: Statement) {
  const stmt = statement.raw(true) as unknown as { get(...params: unknown[]): unknown; all(...params: unknown[]): unknown[]; columns: Statement['columns'] };
  const at = new Map(stmt.columns().map((column, i) => [column.name, i]));
  const col = Object.fromEntries(
    jobColumns.map((name) => {
      const i = at.get(name);
      if (i === undefined) throw new Error(`jobs query lacks column ${name}`);
      return [name, i];
    }),
  ) as Record<keyof JobRow, number>;
  // A literal (not a loop) so every row object shares one shape.
  const toRow = (v: unknown[]): JobRow => ({
    id: v[col.id], tenant: v[col.tenant], type: v[col.type], status: v[col.status], input: v[col.input], attempt: v[col.attempt],
    attempts_charged: v[col.attempts_charged], max_attempts: v[col.max_attempts], timeout_seconds: v[col.timeout_seconds],
    run_at: v[col.run_at], created_at: v[col.created_at], updated_at: v[col.updated_at], started_at: v[col.started_at],
    finished_at: v[col.finished_at], lease_expires_at: v[col.lease_expires_at], worker_id: v[col.worker_id],
    cancel_requested: v[col.cancel_requested], progress_percent: v[col.progress_percent], progress_message: v[col.progress_message],
    result: v[col.result], error: v[col.error], artifacts: v[col.artifacts], request_hash: v[col.request_hash],
  }) as JobRow;
  return {
    get(...params: unknown[]): JobRow | undefined {
      const values = stmt.get(...params) as unknown[] | undefined;
      return values && toRow(values);
    },
    all(...params: unknown[]): JobRow[] {
      return (stmt.all(...params) as unknown[][]).map(toRow);
    },
  };
}

export type SyncClaim = (id: string, options: ClaimOptions) => Job | null;

/** The columns a Job is read from (not `*`: the history is read by getLogs alone). */
const selectJob = jobColumns.join(', ');

/**
 * A SET clause appending one transition line to the row's history (see the schema): `attempt`
 * and `message` are SQL expressions, evaluated on the row as it was before the update.
 */
const appendHistory = (attempt: string, message: string) =>
  `history = history || json_array(@now, ${attempt}, ${message}, log_count) || char(10)`;

/** One history line as written by appendHistory, for a row inserted from JavaScript. */
const historyLine = (at: number, attempt: number, message: string, logCount: number) => `${JSON.stringify([at, attempt, message, logCount])}\n`;

/** What a claim writes: the next attempt, a lease, its holder and its history line. */
const claimSet = `status = 'running', attempt = attempt + 1, attempts_charged = attempts_charged + 1,
  lease_expires_at = @lease, worker_id = @workerId, started_at = COALESCE(started_at, @now), updated_at = @now, woken_at = NULL,
  ${appendHistory('attempt + 1', `'claimed by ' || @workerId || ' (attempt ' || (attempt + 1) || ')'`)}`;

/** Claimable now: queued and due, or running under a lease that has expired (its worker died). */
const claimable = `((status = 'queued' AND run_at <= @now) OR (status = 'running' AND lease_expires_at <= @now))`;

/**
 * The claim as a synchronous step, to run inside a caller's transaction: the store's claimJob,
 * and the SQLite queue's receive, which claims what it hands out in the same commit.
 */
export function prepareSqliteClaim(db: SqliteDatabase, clock: Clock = systemClock): SyncClaim {
  const claim = jobRows(db.prepare(`UPDATE jobs SET ${claimSet} WHERE id = @id AND ${claimable} RETURNING ${selectJob}`));
  return (id, { workerId, leaseMs }) => {
    const now = clock.now();
    const row = claim.get({ id, now, lease: now + leaseMs, workerId });
    return row ? toJob(row) : null;
  };
}

export type SyncClaimDue = (limit: number, options: ClaimOptions) => Job[];

/**
 * From this many jobs up, due queued jobs are claimed by one multi-row UPDATE (≈ 7 µs a job at
 * 100, against ≈ 13 µs one by one); below it the statement's fixed cost (its ephemeral tables)
 * outweighs that, and each job is claimed by id.
 */
const multiRowClaimFrom = 8;

/**
 * Claims up to `limit` claimable jobs straight from the jobs table, oldest first: expired leases,
 * then due queued jobs. Each lookup walks a partial index (O(log n) whatever the backlog). For
 * the SQLite queue that shares the store's database: there the job row is its own wake-up.
 */
export function prepareSqliteClaimDue(db: SqliteDatabase, claim: SyncClaim, clock: Clock = systemClock): SyncClaimDue {
  const expired = db.prepare(`SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= ? ORDER BY lease_expires_at LIMIT ?`).pluck();
  const queued = db.prepare(`SELECT id FROM jobs WHERE status = 'queued' AND run_at <= ? ORDER BY run_at LIMIT ?`).pluck();
  // Runs under the group commit's write lock: the rows the subquery picks are still queued when updated.
  const claimQueued = jobRows(
    db.prepare(`UPDATE jobs SET ${claimSet} WHERE id IN (
      SELECT id FROM jobs WHERE status = 'queued' AND run_at <= @now ORDER BY run_at LIMIT @limit) RETURNING ${selectJob}`),
  );
  const claimEach = (ids: readonly string[], options: ClaimOptions, into: Job[]) => {
    for (const id of ids) {
      const job = claim(id, options);
      if (job) into.push(job);
    }
  };
  return (limit, options) => {
    const now = clock.now();
    const jobs: Job[] = [];
    claimEach(expired.all(now, limit) as string[], options, jobs);
    const left = limit - jobs.length;
    if (left <= 0) return jobs;
    if (left < multiRowClaimFrom) {
      claimEach(queued.all(now, left) as string[], options, jobs);
      return jobs;
    }
    const rows = claimQueued.all({ now, limit: left, lease: now + options.leaseMs, workerId: options.workerId });
    // RETURNING gives no order: oldest first, as picked.
    rows.sort((a, b) => a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const row of rows) jobs.push(toJob(row));
    return jobs;
  };
}

export interface SqliteJobStoreOptions {
  db: SqliteDatabase;
  clock?: Clock;
  /** Close the database handle with the store. @default false */
  ownsDatabase?: boolean;
}

/** JobStore on the embedded SQLite database. Every transition writes its log line in the same transaction. */
export function createSqliteJobStore(options: SqliteJobStoreOptions): JobStore {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const sql = {
    insert: db.prepare(`INSERT INTO jobs (id, tenant, type, status, input, max_attempts, timeout_seconds, run_at,
      created_at, updated_at, woken_at, idempotency_key, request_hash, history)
      VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    byId: jobRows(db.prepare(`SELECT ${selectJob} FROM jobs WHERE id = ?`)),
    byIdempotency: jobRows(db.prepare(`SELECT ${selectJob} FROM jobs WHERE tenant = ? AND idempotency_key = ?`)),
    // A handler's line: counted on its job (fenced on the attempt), then stored.
    countLog: db.prepare(`UPDATE jobs SET log_count = log_count + 1 WHERE id = ? AND attempt = ? AND status = 'running'`),
    log: db.prepare(`INSERT INTO job_logs (job_id, attempt, at, level, message) VALUES (?, ?, ?, 'info', ?)`),
    history: db.prepare('SELECT history FROM jobs WHERE id = ?').pluck(),
    logs: db.prepare('SELECT at, attempt, level, message FROM job_logs WHERE job_id = ? ORDER BY seq'),
    renew: db.prepare(`UPDATE jobs SET lease_expires_at = @lease, updated_at = @now
      WHERE id = @id AND attempt = @attempt AND status = 'running' RETURNING cancel_requested`),
    progress: db.prepare(`UPDATE jobs SET progress_percent = @percent, progress_message = @message, updated_at = @now
      WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    complete: db.prepare(`UPDATE jobs SET status = 'succeeded', result = @result, artifacts = @artifacts, error = NULL,
      progress_percent = 100, lease_expires_at = NULL, finished_at = @now, updated_at = @now, ${appendHistory('@attempt', '@message')}
      WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    failRetry: db.prepare(`UPDATE jobs SET status = 'queued', error = @error, run_at = @retryAt, woken_at = @retryAt,
      lease_expires_at = NULL, worker_id = NULL, updated_at = @now, ${appendHistory('@attempt', '@message')}
      WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    failFinal: db.prepare(`UPDATE jobs SET status = 'failed', error = @error, lease_expires_at = NULL,
      finished_at = @now, updated_at = @now, ${appendHistory('@attempt', '@message')} WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    release: db.prepare(`UPDATE jobs SET status = 'queued', attempts_charged = MAX(attempts_charged - 1, 0), run_at = @now,
      woken_at = @now, lease_expires_at = NULL, worker_id = NULL, updated_at = @now, ${appendHistory('@attempt', '@message')}
      WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    markCancelled: db.prepare(`UPDATE jobs SET status = 'cancelled', lease_expires_at = NULL, finished_at = @now,
      updated_at = @now, ${appendHistory('@attempt', '@message')} WHERE id = @id AND attempt = @attempt AND status = 'running'`),
    cancelQueued: db.prepare(`UPDATE jobs SET status = 'cancelled', finished_at = @now, updated_at = @now,
      ${appendHistory('attempt', `'cancelled'`)} WHERE id = @id AND status = 'queued'`),
    cancelRunning: db.prepare(`UPDATE jobs SET cancel_requested = 1, updated_at = @now, ${appendHistory('attempt', `'cancel requested'`)}
      WHERE id = @id AND status = 'running'`),
    retry: db.prepare(`UPDATE jobs SET status = 'queued', attempts_charged = 0, cancel_requested = 0, run_at = @now,
      woken_at = @now, finished_at = NULL, error = NULL, progress_percent = NULL, progress_message = NULL, updated_at = @now,
      ${appendHistory('attempt', `'retry requested'`)} WHERE id = @id AND status IN ('failed', 'cancelled')`),
    dueQueued: db.prepare(`UPDATE jobs SET woken_at = @now WHERE id IN (
      SELECT id FROM jobs WHERE status = 'queued' AND run_at <= @now AND (woken_at IS NULL OR woken_at <= @idleBefore)
      ORDER BY run_at LIMIT @limit) RETURNING id, attempt, type`),
    dueExpired: db.prepare(`UPDATE jobs SET woken_at = @now WHERE id IN (
      SELECT id FROM jobs WHERE status = 'running' AND lease_expires_at <= @now AND (woken_at IS NULL OR woken_at <= @idleBefore)
      ORDER BY lease_expires_at LIMIT @limit) RETURNING id, attempt, type`),
    abandon: db.prepare(`UPDATE jobs SET status = 'failed', error = @error, lease_expires_at = NULL, finished_at = @now, updated_at = @now,
      ${appendHistory('attempt', `'failed: ' || @message`)} WHERE id = @id AND status IN ('queued', 'running')`),
    ping: db.prepare('SELECT 1'),
  };

  const commit = groupCommitFor(db);
  const claim = prepareSqliteClaim(db, clock);

  /**
   * Runs a fenced transition (the statement appends `message` to the job's history); zero rows
   * changed means the caller lost its lease.
   */
  const fenced = (id: string, attempt: number, statement: Statement, params: Record<string, unknown>, message: string) =>
    commit(
      () => {
        if (statement.run({ ...params, id, attempt, message, now: clock.now() }).changes === 0) throw new LeaseLostError(id, attempt);
      },
      { oneStatement: true },
    );

  const create = (job: NewJob): CreateJobResult => {
    if (job.idempotency) {
      const existing = sql.byIdempotency.get(job.tenant, job.idempotency.key);
      if (existing) {
        if (existing.request_hash !== job.idempotency.requestHash) throw new IdempotencyMismatchError(job.idempotency.key);
        return { job: toJob(existing), created: false };
      }
    }
    const now = clock.now();
    const runAt = job.delayMs !== undefined ? now + job.delayMs : job.runAt;
    const input = JSON.stringify(job.input);
    // Positional parameters: binding an object by name costs more, on the hottest write.
    sql.insert.run(
      job.id, job.tenant, job.type, input, job.maxAttempts, job.timeoutSeconds, runAt, now, now, Math.max(now, runAt),
      job.idempotency?.key ?? null, job.idempotency?.requestHash ?? null, historyLine(now, 0, 'queued', 0),
    );
    // The job as inserted, without reading it back or parsing what was just serialised.
    const created: Job = {
      id: job.id, tenant: job.tenant, type: job.type, status: 'queued', input: job.input, attempt: 0, attemptsCharged: 0,
      maxAttempts: job.maxAttempts, timeoutSeconds: job.timeoutSeconds, progress: null, result: null, error: null, artifacts: [],
      cancelRequested: false, workerId: null, leaseExpiresAt: null, createdAt: now, updatedAt: now, startedAt: null,
      finishedAt: null, runAt,
    };
    return { job: created, created: true };
  };

  const getRow = (id: string, tenant?: string): JobRow | undefined => {
    const row = sql.byId.get(id);
    return row && (tenant === undefined || row.tenant === tenant) ? row : undefined;
  };

  /**
   * The job's transition lines (its history) and its handler's lines (job_logs), in the order
   * they were written: each history line records how many job_logs rows came before it.
   */
  const readLogs = db.transaction((id: string): LogLine[] => {
    const handlerLines = sql.logs.all(id) as LogLine[];
    const history = (sql.history.get(id) as string | undefined) ?? '';
    const lines: LogLine[] = [];
    let next = 0;
    for (const text of history.split('\n')) {
      if (!text) continue;
      const [at, attempt, message, before] = JSON.parse(text) as [number, number, string, number];
      while (next < before && next < handlerLines.length) lines.push(handlerLines[next++] as LogLine);
      lines.push({ at, attempt, level: 'system', message });
    }
    while (next < handlerLines.length) lines.push(handlerLines[next++] as LogLine);
    return lines;
  });

  const requireRow = (id: string, tenant: string): JobRow => {
    const row = getRow(id, tenant);
    if (!row) throw new NotFoundError(`job ${id} not found`, 'job_not_found');
    return row;
  };

  return {
    // One INSERT; an idempotency conflict is found before it.
    createJob: (job: NewJob) => commit(() => create(job), { oneStatement: true }),

    // One savepoint for the whole batch: any failure rolls every job of it back.
    createJobs: (jobs) => commit(() => jobs.map(create)),

    getJob: (id, tenant) =>
      guarded(() => {
        const row = getRow(id, tenant);
        return row ? toJob(row) : null;
      }),

    listJobs: (query: ListJobsQuery) =>
      guarded((): JobPage => {
        const where = ['tenant = @tenant'];
        const params: Record<string, unknown> = { tenant: query.tenant, limit: query.limit + 1 };
        if (query.status) {
          where.push('status = @status');
          params.status = query.status;
        }
        if (query.type) {
          where.push('type = @type');
          params.type = query.type;
        }
        if (query.cursor) {
          const [createdAt, id] = decodeCursor(query.cursor);
          where.push('(created_at < @cAt OR (created_at = @cAt AND id < @cId))');
          params.cAt = createdAt;
          params.cId = id;
        }
        const rows = db
          .prepare(`SELECT ${selectJob} FROM jobs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT @limit`)
          .all(params) as JobRow[];
        const page = rows.slice(0, query.limit);
        const last = page.at(-1);
        const nextCursor = rows.length > query.limit && last ? encodeCursor([last.created_at, last.id]) : null;
        return { items: page.map(toJob), nextCursor };
      }),

    claimJob: (id, options) => commit(() => claim(id, options)),

    renewLease: (id, attempt, leaseMs) =>
      commit(
        () => {
          const now = clock.now();
          const row = sql.renew.get({ id, attempt, now, lease: now + leaseMs }) as { cancel_requested: number } | undefined;
          if (!row) throw new LeaseLostError(id, attempt);
          return { cancelRequested: row.cancel_requested === 1 };
        },
        { oneStatement: true },
      ),

    recordProgress: (id, attempt, progress) =>
      commit(
        () => {
          const changes = sql.progress.run({ id, attempt, now: clock.now(), ...progress }).changes;
          if (changes === 0) throw new LeaseLostError(id, attempt);
        },
        { oneStatement: true },
      ),

    appendLog: (id, attempt, message) =>
      commit(() => {
        if (sql.countLog.run(id, attempt).changes === 0) throw new LeaseLostError(id, attempt);
        sql.log.run(id, attempt, clock.now(), message);
      }),

    getLogs: (id) =>
      guarded(() => readLogs(id)),

    completeJob: (id, attempt, { result, artifacts }) =>
      fenced(id, attempt, sql.complete, { result: JSON.stringify(result ?? null), artifacts: JSON.stringify(artifacts) }, 'succeeded'),

    failJob: (id, attempt, { error, retryAt }) =>
      retryAt === null
        ? fenced(id, attempt, sql.failFinal, { error: JSON.stringify(error) }, `failed: ${error.message}`)
        : fenced(
            id,
            attempt,
            sql.failRetry,
            { retryAt, error: JSON.stringify(error) },
            `attempt ${attempt} failed: ${error.message}; retry at ${new Date(retryAt).toISOString()}`,
          ),

    releaseJob: (id, attempt, reason = 'worker shutting down') => fenced(id, attempt, sql.release, {}, `handed back (${reason})`),

    markCancelled: (id, attempt) => fenced(id, attempt, sql.markCancelled, {}, 'cancelled'),

    cancelJob: (id, tenant) =>
      commit(() => {
        const row = requireRow(id, tenant);
        const now = clock.now();
        if (sql.cancelQueued.run({ id, now }).changes === 0 && sql.cancelRunning.run({ id, now }).changes === 0) {
          throw new ConflictError(`job ${id} is already ${row.status} and cannot be cancelled`, 'job_finished');
        }
        return toJob(sql.byId.get(id) as JobRow);
      }),

    retryJob: (id, tenant) =>
      commit(() => {
        const row = requireRow(id, tenant);
        if (sql.retry.run({ id, now: clock.now() }).changes === 0) {
          throw new ConflictError(`job ${id} is ${row.status}; only failed or cancelled jobs can be retried`, 'not_retryable');
        }
        return toJob(sql.byId.get(id) as JobRow);
      }),

    takeDue: ({ limit, wakeIdleMs }) =>
      commit(() => {
        const now = clock.now();
        const params = { now, idleBefore: now - wakeIdleMs, limit };
        const rows = [...sql.dueExpired.all(params), ...sql.dueQueued.all(params)] as { id: string; attempt: number; type: string }[];
        return rows.map((r): WakeUp => ({ jobId: r.id, attempt: r.attempt, type: r.type }));
      }),

    abandonJob: (id, error) =>
      commit(() => sql.abandon.run({ id, now: clock.now(), error: JSON.stringify(error), message: error.message }).changes === 1, { oneStatement: true }),

    ping: () => guarded(() => void sql.ping.get()),

    close: () =>
      guarded(() => {
        if (options.ownsDatabase && db.open) db.close();
      }),
  };
}
