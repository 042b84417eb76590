/**
 * Glossary
 * - job: one unit of work of a registered type, submitted through the API, owned by a tenant.
 * - attempt: one claim of a job by a worker. The attempt number is also the fencing token:
 *   every write after the claim is conditional on it, so a stale worker's writes are rejected.
 * - lease: the time a claim stays valid; heartbeats extend it. An expired lease makes the job
 *   claimable again.
 * - handler: the user code that does the work of a job type.
 * - artifact: a file a handler produced, published when its attempt completes.
 * - upload: a file a client sent before submitting, referenced from job input as `{ upload: id }`.
 * - runtime: how messages reach processJob (poller in a container, Lambda, dev process).
 */
export const JobStatus = {
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

export const jobStatuses = Object.values(JobStatus);
export const terminalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

export function isTerminal(status: JobStatus): boolean {
  return terminalStatuses.includes(status);
}

export interface ArtifactRef {
  name: string;
  /** Storage key inside the artifact store (attempt-scoped, never shown to clients). */
  key: string;
  bytes: number;
  contentType: string;
  sha256: string;
}

export interface JobProgress {
  percent: number;
  message: string | null;
}

export interface JobFailure {
  message: string;
  code: string;
}

export interface Job {
  id: string;
  tenant: string;
  type: string;
  status: JobStatus;
  input: unknown;
  /** Claims so far; the current fencing token. */
  attempt: number;
  /** Attempts counted against maxAttempts (hand-backs on shutdown are refunded). */
  attemptsCharged: number;
  maxAttempts: number;
  timeoutSeconds: number;
  progress: JobProgress | null;
  result: unknown;
  error: JobFailure | null;
  artifacts: ArtifactRef[];
  cancelRequested: boolean;
  workerId: string | null;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  runAt: number;
}

export interface LogLine {
  at: number;
  attempt: number;
  level: 'system' | 'info';
  message: string;
}

/** The queue message: only a pointer into the store, never the payload. */
export interface WakeUp {
  jobId: string;
  attempt: number;
  /** Job type, when known: used to route the wake-up to its pool's queue, never sent in the message. */
  type?: string;
}
