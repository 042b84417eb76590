import type { Clock } from '../../core/clock.js';
import { ConflictError, IdempotencyMismatchError, LeaseLostError, NotFoundError } from '../../core/errors.js';
import type { Job, LogLine } from '../../core/job.js';
import { decodeCursor, encodeCursor } from '../../ports/cursor.js';
import type { ClaimOptions, CreateJobResult, JobStore, NewJob } from '../../ports/job-store.js';
import type { PostgresDatabase } from './database.js';
import type { JobRow as SqlJobRow } from '../sql-rows.js';
import { rowToJob } from '../sql-rows.js';

type JobRow = SqlJobRow<unknown, boolean>;

/** A new job's values for the create statements' $2..$11, in order. */
const insertedColumns: ((job: NewJob) => unknown)[] = [
  (j) => j.id,
  (j) => j.tenant,
  (j) => j.type,
  (j) => JSON.stringify(j.input),
  (j) => j.maxAttempts,
  (j) => j.timeoutSeconds,
  (j) => j.runAt,
  (j) => j.delayMs ?? null,
  (j) => j.idempotency?.key ?? null,
  (j) => j.idempotency?.requestHash ?? null,
];

const toJob = (row: JobRow): Job => rowToJob(row, { json: (value) => value, bool: (flag) => flag });

/**
 * The claim of the jobs `picked` names (a query of `id`s, run with t.now at hand), as the CTEs
 * `c` (the claimed rows) and `l` (their log lines). $3 is the lease in ms and $4 the worker id.
 * Only a claimable job is claimed: queued and due, or running with its lease expired. The ids
 * arrive as an array so that the update walks the primary key whatever the planner guesses of
 * `picked` (joined as a table, a guess from the LIMIT made it hash-join a million-row backlog:
 * 124 ms per claim).
 */
const claimCtes = (db: PostgresDatabase, picked: string) => `
  picked AS (${picked}),
  c AS (UPDATE ${db.table('jobs')} j SET status = 'running', attempt = attempt + 1, attempts_charged = attempts_charged + 1,
          lease_expires_at = t.now + $3, worker_id = $4, started_at = COALESCE(started_at, t.now), updated_at = t.now, woken_at = NULL
        FROM t WHERE j.id = ANY (ARRAY(SELECT id FROM picked)) AND ((j.status = 'queued' AND j.run_at <= t.now) OR (j.status = 'running' AND j.lease_expires_at <= t.now))
        RETURNING j.*),
  l AS (INSERT INTO ${db.table('job_logs')} (job_id, attempt, at, level, message)
        SELECT c.id, c.attempt, t.now, 'system', 'claimed by ' || $4 || ' (attempt ' || c.attempt || ')' FROM c, t)`;

export type PostgresClaimDue = (limit: number, options: ClaimOptions) => Promise<Job[]>;

/**
 * Claims up to `limit` claimable jobs straight from the jobs table in one statement, oldest
 * first: expired leases, then due queued jobs. Both lookups walk a partial index (O(log n)
 * whatever the backlog) and skip rows other claimers hold (FOR UPDATE SKIP LOCKED), so
 * concurrent workers never wait on each other. For the PostgreSQL queue that shares the store's
 * database: there the job row is its own wake-up. `clock` overrides the database clock (tests).
 */
export function preparePostgresClaimDue(db: PostgresDatabase, clock?: Clock): PostgresClaimDue {
  const jobs = db.table('jobs');
  const now = '(SELECT now FROM t)';
  const sql = `WITH t AS (SELECT "${db.schema}".now_ms($1::bigint) AS now),
    expired AS (SELECT id FROM ${jobs}
                WHERE status = 'running' AND lease_expires_at <= ${now} ORDER BY lease_expires_at LIMIT $2 FOR UPDATE SKIP LOCKED),
    queued AS (SELECT id FROM ${jobs}
               WHERE status = 'queued' AND run_at <= ${now} ORDER BY run_at LIMIT $2 - (SELECT count(*) FROM expired) FOR UPDATE SKIP LOCKED),
    ${claimCtes(db, 'SELECT id FROM expired UNION ALL SELECT id FROM queued')}
    SELECT * FROM c ORDER BY run_at, id`;
  return async (limit, { workerId, leaseMs }) => {
    const { rows } = await db.query<JobRow>(sql, [clock ? clock.now() : null, limit, leaseMs, workerId]);
    return rows.map(toJob);
  };
}

/**
 * JobStore on PostgreSQL. Time is the database clock (`now_ms`) unless a clock is injected
 * (tests). Each transition and its log line are one statement, so they commit together.
 */
export function createPostgresJobStore(options: { db: PostgresDatabase; clock?: Clock }): JobStore {
  const { db } = options;
  const jobs = db.table('jobs');
  const logs = db.table('job_logs');
  const nowMs = `"${db.schema}".now_ms($1::bigint)`;
  const override = () => (options.clock ? options.clock.now() : null);

  /** UPDATE fenced on (id, attempt, running) plus its log line; throws LeaseLostError on no match. */
  const fenced = async (id: string, attempt: number, set: string, extra: unknown[], message: string) => {
    const { rows } = await db.query<{ n: number }>(
      `WITH t AS (SELECT ${nowMs} AS now),
       u AS (UPDATE ${jobs} j SET ${set}, updated_at = t.now FROM t
             WHERE j.id = $2 AND j.attempt = $3 AND j.status = 'running' RETURNING j.id),
       l AS (INSERT INTO ${logs} (job_id, attempt, at, level, message) SELECT u.id, $3, t.now, 'system', $4 FROM u, t)
       SELECT count(*)::int AS n FROM u`,
      [override(), id, attempt, message, ...extra],
    );
    if (rows[0]?.n !== 1) throw new LeaseLostError(id, attempt);
  };

  // Completions asked for in the same event-loop turn share one statement (a worker at high
  // concurrency finishes many jobs at once): each row still fenced on its own (id, attempt,
  // running), each caller answered by whether its row matched. A job completed twice in one turn
  // waits for the next statement, so its second completion is judged against the first.
  const completeMany = `WITH t AS (SELECT ${nowMs} AS now),
    src AS (SELECT * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[]) AS s(id, attempt, result, artifacts)),
    u AS (UPDATE ${jobs} j SET status = 'succeeded', result = s.result::jsonb, artifacts = s.artifacts::jsonb, error = NULL,
            progress_percent = 100, lease_expires_at = NULL, finished_at = t.now, updated_at = t.now
          FROM src s, t WHERE j.id = s.id AND j.attempt = s.attempt AND j.status = 'running' RETURNING j.id, j.attempt),
    l AS (INSERT INTO ${logs} (job_id, attempt, at, level, message) SELECT u.id, u.attempt, t.now, 'system', 'succeeded' FROM u, t)
    SELECT id FROM u`;
  interface Completion {
    id: string;
    attempt: number;
    result: string;
    artifacts: string;
    resolve(): void;
    reject(error: unknown): void;
  }
  let completions: Completion[] = [];
  let flushScheduled = false;
  const flushCompletions = async () => {
    flushScheduled = false;
    const batch: Completion[] = [];
    const seen = new Set<string>();
    const later: Completion[] = [];
    for (const c of completions) {
      if (seen.has(c.id) || batch.length >= 500) later.push(c);
      else {
        seen.add(c.id);
        batch.push(c);
      }
    }
    completions = later;
    if (later.length > 0) scheduleCompletions();
    try {
      const { rows } = await db.query<{ id: string }>(completeMany, [
        override(),
        batch.map((c) => c.id),
        batch.map((c) => c.attempt),
        batch.map((c) => c.result),
        batch.map((c) => c.artifacts),
      ]);
      const done = new Set(rows.map((r) => r.id));
      for (const c of batch) {
        if (done.has(c.id)) c.resolve();
        else c.reject(new LeaseLostError(c.id, c.attempt));
      }
    } catch (error) {
      for (const c of batch) c.reject(error);
    }
  };
  const scheduleCompletions = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => void flushCompletions());
  };

  const lockOwned = async (client: { query: PostgresDatabase['query'] }, id: string, tenant: string) => {
    const { rows } = await client.query<JobRow>(`SELECT * FROM ${jobs} WHERE id = $1 FOR UPDATE`, [id]);
    const row = rows[0];
    if (!row || row.tenant !== tenant) throw new NotFoundError(`job ${id} not found`, 'job_not_found');
    return row;
  };

  // The job row and its log line in one statement: $2..$11 are the columns, one value each
  // (insertOne) or one array each (insertMany, in the batch's order). A delay ($9) counts from
  // the database's now. A job whose idempotency key exists already is not inserted.
  const insertColumns = `id, tenant, type, status, input, max_attempts, timeout_seconds, run_at, created_at, updated_at, woken_at, idempotency_key, request_hash`;
  const onConflict = 'ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING *';
  const insertOne = `WITH t AS (SELECT ${nowMs} AS now),
    r AS (SELECT COALESCE(t.now + $9::bigint, $8::bigint) AS run_at FROM t),
    ins AS (INSERT INTO ${jobs} (${insertColumns})
            SELECT $2, $3, $4, 'queued', $5::jsonb, $6, $7, r.run_at, t.now, t.now, GREATEST(t.now, r.run_at), $10, $11 FROM t, r
            ${onConflict}),
    l AS (INSERT INTO ${logs} (job_id, attempt, at, level, message) SELECT ins.id, 0, t.now, 'system', 'queued' FROM ins, t)
    SELECT * FROM ins`;
  const insertMany = `WITH t AS (SELECT ${nowMs} AS now),
    src AS (SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::bigint[], $9::bigint[], $10::text[], $11::text[])
              WITH ORDINALITY AS s(id, tenant, type, input, max_attempts, timeout_seconds, run_at, delay_ms, idempotency_key, request_hash, ord)),
    ins AS (INSERT INTO ${jobs} (${insertColumns})
            SELECT s.id, s.tenant, s.type, 'queued', s.input::jsonb, s.max_attempts, s.timeout_seconds, r.run_at, t.now, t.now,
              GREATEST(t.now, r.run_at), s.idempotency_key, s.request_hash
            FROM src s CROSS JOIN t CROSS JOIN LATERAL (SELECT COALESCE(t.now + s.delay_ms, s.run_at) AS run_at) r
            ORDER BY s.ord
            ${onConflict}),
    l AS (INSERT INTO ${logs} (job_id, attempt, at, level, message)
          SELECT s.id, 0, t.now, 'system', 'queued' FROM src s JOIN ins ON ins.id = s.id CROSS JOIN t ORDER BY s.ord)
    SELECT * FROM ins`;

  /**
   * Inserts a batch of jobs and their log lines in one statement (one round trip whatever the
   * batch size); jobs whose idempotency key exists already come back as they were stored, once
   * their request is checked to be the same. Results in the batch's order.
   */
  const create = async (client: { query: PostgresDatabase['query'] }, batch: readonly NewJob[]): Promise<CreateJobResult[]> => {
    const { rows } = await client.query<JobRow>(batch.length === 1 ? insertOne : insertMany, [
      override(),
      ...insertedColumns.map((pick) => (batch.length === 1 ? pick(batch[0] as NewJob) : batch.map(pick))),
    ]);
    const inserted = new Map(rows.map((row) => [row.id, row]));
    const replays = batch.filter((job) => !inserted.has(job.id));
    const existing = new Map<string, JobRow>();
    if (replays.length > 0) {
      const found = await client.query<JobRow & { idempotency_key: string }>(
        `SELECT j.* FROM ${jobs} j JOIN unnest($1::text[], $2::text[]) AS k(tenant, idempotency_key)
           ON j.tenant = k.tenant AND j.idempotency_key = k.idempotency_key`,
        [replays.map((j) => j.tenant), replays.map((j) => j.idempotency?.key ?? null)],
      );
      for (const row of found.rows) existing.set(`${row.tenant}\u0000${row.idempotency_key}`, row);
    }
    return batch.map((job) => {
      const row = inserted.get(job.id);
      if (row) return { job: toJob(row), created: true };
      const key = job.idempotency?.key as string;
      const stored = existing.get(`${job.tenant}\u0000${key}`);
      if (!stored) throw new ConflictError(`idempotency key '${key}' is being used concurrently; retry`, 'idempotency_in_progress');
      if (stored.request_hash !== job.idempotency?.requestHash) throw new IdempotencyMismatchError(key);
      return { job: toJob(stored), created: false };
    });
  };

  return {
    createJob: async (job: NewJob) => (await create(db, [job]))[0] as CreateJobResult,

    // One transaction: all jobs or none (a replay whose request differs undoes the insert).
    createJobs: (batch) => (batch.length === 0 ? Promise.resolve([]) : db.transaction((client) => create(client, batch))),

    async getJob(id, tenant) {
      const row = (await db.query<JobRow>(`SELECT * FROM ${jobs} WHERE id = $1`, [id])).rows[0];
      return row && (tenant === undefined || row.tenant === tenant) ? toJob(row) : null;
    },

    async listJobs(query) {
      const where = ['tenant = $1'];
      const values: unknown[] = [query.tenant];
      if (query.status) {
        values.push(query.status);
        where.push(`status = $${values.length}`);
      }
      if (query.type) {
        values.push(query.type);
        where.push(`type = $${values.length}`);
      }
      if (query.cursor) {
        const [createdAt, id] = decodeCursor(query.cursor);
        values.push(createdAt, id);
        where.push(`(created_at < $${values.length - 1} OR (created_at = $${values.length - 1} AND id < $${values.length}))`);
      }
      values.push(query.limit + 1);
      const { rows } = await db.query<JobRow>(
        `SELECT * FROM ${jobs} WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${values.length}`,
        values,
      );
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return { items: page.map(toJob), nextCursor: rows.length > query.limit && last ? encodeCursor([last.created_at, last.id]) : null };
    },

    async claimJob(id, { workerId, leaseMs }) {
      const { rows } = await db.query<JobRow>(
        `WITH t AS (SELECT ${nowMs} AS now),
         ${claimCtes(db, 'SELECT $2::text AS id')}
         SELECT * FROM c`,
        [override(), id, leaseMs, workerId],
      );
      return rows[0] ? toJob(rows[0]) : null;
    },

    async renewLease(id, attempt, leaseMs) {
      const { rows } = await db.query<{ cancel_requested: boolean }>(
        `UPDATE ${jobs} SET lease_expires_at = ${nowMs} + $4, updated_at = ${nowMs}
         WHERE id = $2 AND attempt = $3 AND status = 'running' RETURNING cancel_requested`,
        [override(), id, attempt, leaseMs],
      );
      if (!rows[0]) throw new LeaseLostError(id, attempt);
      return { cancelRequested: rows[0].cancel_requested };
    },

    async recordProgress(id, attempt, progress) {
      const { rowCount } = await db.query(
        `UPDATE ${jobs} SET progress_percent = $4, progress_message = $5, updated_at = ${nowMs}
         WHERE id = $2 AND attempt = $3 AND status = 'running'`,
        [override(), id, attempt, progress.percent, progress.message],
      );
      if (rowCount !== 1) throw new LeaseLostError(id, attempt);
    },

    async appendLog(id, attempt, message) {
      const { rowCount } = await db.query(
        `INSERT INTO ${logs} (job_id, attempt, at, level, message)
         SELECT id, $3, ${nowMs}, 'info', $4 FROM ${jobs} WHERE id = $2 AND attempt = $3 AND status = 'running'`,
        [override(), id, attempt, message],
      );
      if (rowCount !== 1) throw new LeaseLostError(id, attempt);
    },

    async getLogs(id) {
      const { rows } = await db.query<LogLine>(`SELECT at, attempt, level, message FROM ${logs} WHERE job_id = $1 ORDER BY seq`, [id]);
      return rows;
    },

    completeJob: (id, attempt, { result, artifacts }) =>
      new Promise<void>((resolve, reject) => {
        completions.push({ id, attempt, result: JSON.stringify(result ?? null), artifacts: JSON.stringify(artifacts), resolve, reject });
        scheduleCompletions();
      }),

    failJob: (id, attempt, { error, retryAt }) =>
      retryAt === null
        ? fenced(id, attempt, `status = 'failed', error = $5::jsonb, lease_expires_at = NULL, finished_at = t.now`, [JSON.stringify(error)], `failed: ${error.message}`)
        : fenced(
            id,
            attempt,
            `status = 'queued', error = $5::jsonb, run_at = $6, woken_at = $6, lease_expires_at = NULL, worker_id = NULL`,
            [JSON.stringify(error), retryAt],
            `attempt ${attempt} failed: ${error.message}; retry at ${new Date(retryAt).toISOString()}`,
          ),

    releaseJob: (id, attempt, reason = 'worker shutting down') =>
      fenced(
        id,
        attempt,
        `status = 'queued', attempts_charged = GREATEST(attempts_charged - 1, 0), run_at = t.now, woken_at = t.now,
         lease_expires_at = NULL, worker_id = NULL`,
        [],
        `handed back (${reason})`,
      ),

    markCancelled: (id, attempt) => fenced(id, attempt, `status = 'cancelled', lease_expires_at = NULL, finished_at = t.now`, [], 'cancelled'),

    cancelJob: (id, tenant) =>
      db.transaction(async (client) => {
        const row = await lockOwned(client as never, id, tenant);
        const now = (await client.query<{ now: number }>(`SELECT ${nowMs} AS now`, [override()])).rows[0]?.now as number;
        let message: string;
        if (row.status === 'queued') {
          await client.query(`UPDATE ${jobs} SET status = 'cancelled', finished_at = $2, updated_at = $2 WHERE id = $1`, [id, now]);
          message = 'cancelled';
        } else if (row.status === 'running') {
          await client.query(`UPDATE ${jobs} SET cancel_requested = true, updated_at = $2 WHERE id = $1`, [id, now]);
          message = 'cancel requested';
        } else throw new ConflictError(`job ${id} is already ${row.status} and cannot be cancelled`, 'job_finished');
        await client.query(`INSERT INTO ${logs} (job_id, attempt, at, level, message) VALUES ($1, $2, $3, 'system', $4)`, [id, row.attempt, now, message]);
        return toJob((await client.query<JobRow>(`SELECT * FROM ${jobs} WHERE id = $1`, [id])).rows[0] as JobRow);
      }),

    retryJob: (id, tenant) =>
      db.transaction(async (client) => {
        const row = await lockOwned(client as never, id, tenant);
        if (row.status !== 'failed' && row.status !== 'cancelled') {
          throw new ConflictError(`job ${id} is ${row.status}; only failed or cancelled jobs can be retried`, 'not_retryable');
        }
        const now = (await client.query<{ now: number }>(`SELECT ${nowMs} AS now`, [override()])).rows[0]?.now as number;
        const { rows } = await client.query<JobRow>(
          `UPDATE ${jobs} SET status = 'queued', attempts_charged = 0, cancel_requested = false, run_at = $2, woken_at = $2,
             finished_at = NULL, error = NULL, progress_percent = NULL, progress_message = NULL, updated_at = $2
           WHERE id = $1 RETURNING *`,
          [id, now],
        );
        await client.query(`INSERT INTO ${logs} (job_id, attempt, at, level, message) VALUES ($1, $2, $3, 'system', 'retry requested')`, [
          id,
          row.attempt,
          now,
        ]);
        return toJob(rows[0] as JobRow);
      }),

    async takeDue({ limit, wakeIdleMs }) {
      const { rows } = await db.query<{ id: string; attempt: number; type: string }>(
        `WITH t AS (SELECT ${nowMs} AS now),
         due AS (SELECT j.id FROM ${jobs} j, t
                 WHERE ((j.status = 'queued' AND j.run_at <= t.now) OR (j.status = 'running' AND j.lease_expires_at <= t.now))
                   AND (j.woken_at IS NULL OR j.woken_at <= t.now - $2)
                 ORDER BY j.run_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE ${jobs} j SET woken_at = t.now FROM due, t WHERE j.id = due.id RETURNING j.id, j.attempt, j.type`,
        [override(), wakeIdleMs, limit],
      );
      return rows.map((r) => ({ jobId: r.id, attempt: r.attempt, type: r.type }));
    },

    async abandonJob(id, error) {
      const { rows } = await db.query<{ n: number }>(
        `WITH t AS (SELECT ${nowMs} AS now),
         u AS (UPDATE ${jobs} j SET status = 'failed', error = $3::jsonb, lease_expires_at = NULL, finished_at = t.now, updated_at = t.now
               FROM t WHERE j.id = $2 AND j.status IN ('queued', 'running') RETURNING j.id, j.attempt),
         l AS (INSERT INTO ${logs} (job_id, attempt, at, level, message) SELECT u.id, u.attempt, t.now, 'system', $4 FROM u, t)
         SELECT count(*)::int AS n FROM u`,
        [override(), id, JSON.stringify(error), `failed: ${error.message}`],
      );
      return rows[0]?.n === 1;
    },

    async ping() {
      await db.query('SELECT 1');
    },

    close: async () => {},
  };
}
