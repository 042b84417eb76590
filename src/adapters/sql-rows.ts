import type { Job, JobStatus } from '../core/job.js';
import type { Delivery } from '../ports/job-queue.js';
import type { ApiKeyRecord } from '../ports/job-store.js';

/** Row shapes the SQL adapters (SQLite, PostgreSQL) share, and their mapping to port types. */

export interface QueueRow {
  id: number;
  job_id: string;
  attempt: number;
  receive_count: number;
}

/** A queue message's handle: its row id plus the receipt of this receive (stale receipts do nothing). */
export interface QueueHandle {
  id: number;
  receipt: string;
}

export const toDelivery = (row: QueueRow, receipt: string): Delivery => ({
  jobId: row.job_id,
  attempt: row.attempt,
  deliveryId: String(row.id),
  receiveCount: row.receive_count,
  handle: { id: row.id, receipt } satisfies QueueHandle,
});

/**
 * A delivery for a job a receive claimed straight from the jobs table (a queue that shares the
 * store's database): its handle is the queue's marker, and the store's lease is its only state.
 */
export const claimedDelivery = (job: Job, handle: unknown): Delivery => ({
  jobId: job.id,
  attempt: job.attempt - 1,
  type: job.type,
  deliveryId: `${job.id}#${job.attempt}`,
  receiveCount: job.attempt,
  handle,
  claimed: job,
});

export interface KeyRow {
  id: string;
  tenant: string;
  name: string | null;
  created_at: number;
  revoked_at: number | null;
}

export const keyColumns = 'id, tenant, name, created_at, revoked_at';

export const toKeyRecord = (row: KeyRow): ApiKeyRecord => ({
  id: row.id,
  tenant: row.tenant,
  name: row.name,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/**
 * A jobs row. SQLite stores JSON as text and booleans as 0/1; PostgreSQL returns jsonb parsed
 * and real booleans — `Json` and `Bool` say which.
 */
export interface JobRow<Json, Bool> {
  id: string;
  tenant: string;
  type: string;
  status: JobStatus;
  input: Json;
  attempt: number;
  attempts_charged: number;
  max_attempts: number;
  timeout_seconds: number;
  run_at: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  lease_expires_at: number | null;
  worker_id: string | null;
  cancel_requested: Bool;
  progress_percent: number | null;
  progress_message: string | null;
  result: Json | null;
  error: Json | null;
  artifacts: Json;
  request_hash: string | null;
}

/** One mapping for both dialects; `json` and `bool` decode the dialect's column values. */
export function rowToJob<Json, Bool>(row: JobRow<Json, Bool>, decode: { json(value: Json): unknown; bool(value: Bool): boolean }): Job {
  return {
    id: row.id,
    tenant: row.tenant,
    type: row.type,
    status: row.status,
    input: decode.json(row.input),
    attempt: row.attempt,
    attemptsCharged: row.attempts_charged,
    maxAttempts: row.max_attempts,
    timeoutSeconds: row.timeout_seconds,
    progress: row.progress_percent === null ? null : { percent: row.progress_percent, message: row.progress_message },
    result: row.result === null ? null : decode.json(row.result),
    error: row.error === null ? null : (decode.json(row.error) as Job['error']),
    artifacts: decode.json(row.artifacts) as Job['artifacts'],
    cancelRequested: decode.bool(row.cancel_requested),
    workerId: row.worker_id,
    leaseExpiresAt: row.lease_expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    runAt: row.run_at,
  };
}
