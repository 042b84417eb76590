import type { ArtifactRef, Job, JobFailure, JobProgress, JobStatus, LogLine, WakeUp } from '../core/job.js';

export interface NewJob {
  id: string;
  tenant: string;
  type: string;
  input: unknown;
  maxAttempts: number;
  timeoutSeconds: number;
  runAt: number;
  /**
   * When set, the job runs this long after its creation by the store's own clock (its createdAt)
   * and runAt is only the caller's estimate: a delay means the same whichever clock the caller's
   * host keeps (API containers and the database rarely agree to the millisecond).
   */
  delayMs?: number;
  idempotency?: { key: string; requestHash: string };
}

export interface CreateJobResult {
  job: Job;
  /** false when an earlier job with the same idempotency key and request was returned. */
  created: boolean;
}

export interface ListJobsQuery {
  tenant: string;
  status?: JobStatus;
  type?: string;
  limit: number;
  cursor?: string;
}

export interface JobPage {
  items: Job[];
  nextCursor: string | null;
}

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
}

export interface DueQuery {
  limit: number;
  /** A job woken more recently than this is left alone (its wake-up may still be in flight). */
  wakeIdleMs: number;
}

/**
 * The source of truth for jobs. Every method after `claimJob` takes the attempt (fencing
 * token) and throws LeaseLostError when it no longer matches. Adapters translate driver
 * errors into StoreUnavailableError / ConflictError before they cross this seam.
 */
export interface JobStore {
  /** Durable when it resolves. Throws IdempotencyMismatchError for a reused key with another body. */
  createJob(job: NewJob): Promise<CreateJobResult>;
  /**
   * Bulk submit: the results in the order given, each as createJob would answer it. SQL stores
   * write all jobs in one transaction (all or none); DynamoDB writes each on its own, so after a
   * failure some may exist — retrying with the same idempotency keys is always safe.
   */
  createJobs(jobs: readonly NewJob[]): Promise<CreateJobResult[]>;
  getJob(id: string, tenant?: string): Promise<Job | null>;
  listJobs(query: ListJobsQuery): Promise<JobPage>;
  /**
   * Claim a queued job that is due, or a running job whose lease expired: increments the attempt
   * and grants a lease. Returns null when the job is not claimable (already running elsewhere,
   * finished, not yet due, unknown).
   */
  claimJob(id: string, options: ClaimOptions): Promise<Job | null>;
  renewLease(id: string, attempt: number, leaseMs: number): Promise<{ cancelRequested: boolean }>;
  recordProgress(id: string, attempt: number, progress: JobProgress): Promise<void>;
  appendLog(id: string, attempt: number, message: string): Promise<void>;
  getLogs(id: string): Promise<LogLine[]>;
  completeJob(id: string, attempt: number, outcome: { result: unknown; artifacts: ArtifactRef[] }): Promise<void>;
  /** `retryAt` set: back to queued, due then. null: terminal `failed`. */
  failJob(id: string, attempt: number, failure: { error: JobFailure; retryAt: number | null }): Promise<void>;
  /**
   * Hand a running job back: queued, due now, the attempt not charged. `reason` goes into the log
   * line, `handed back (<reason>)`. @default 'worker shutting down'
   */
  releaseJob(id: string, attempt: number, reason?: string): Promise<void>;
  /** Confirms a cancellation that a running attempt observed. */
  markCancelled(id: string, attempt: number): Promise<void>;
  /** Client cancel: queued → cancelled; running → cancel requested; terminal → ConflictError. */
  cancelJob(id: string, tenant: string): Promise<Job>;
  /** Client retry: failed/cancelled → queued with a fresh attempt budget; others → ConflictError. */
  retryJob(id: string, tenant: string): Promise<Job>;
  /**
   * Fail a job that is not finished, whatever its attempt (the dead-letter reader's safety net
   * for wake-ups that exhausted the queue's receive budget). Returns false when it was finished.
   */
  abandonJob(id: string, error: JobFailure): Promise<boolean>;
  /** Jobs due for a wake-up (queued and due, or running with an expired lease); marks them woken. */
  takeDue(query: DueQuery): Promise<WakeUp[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface ApiKeyRecord {
  id: string;
  tenant: string;
  name: string | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface ApiKeyStore {
  createApiKey(key: { id: string; tenant: string; name: string | null; hash: string }): Promise<ApiKeyRecord>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(tenant?: string): Promise<ApiKeyRecord[]>;
  /** Returns false when no such key exists. */
  revokeApiKey(id: string): Promise<boolean>;
}
