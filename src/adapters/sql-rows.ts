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
