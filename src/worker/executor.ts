import type { ArtifactRef, Job, JobProgress } from '../core/job.js';

export interface HandlerRun {
  job: Job;
  signal: AbortSignal;
  onProgress(progress: JobProgress): void;
  onLog(message: string): void;
}

export interface HandlerOutcome {
  result: unknown;
  artifacts: ArtifactRef[];
}

/**
 * Runs one attempt's handler. Implementations: inline (same thread) and a worker-thread pool
 * that keeps CPU-bound handlers off the event loop that heartbeats leases.
 */
export interface HandlerExecutor {
  run(run: HandlerRun): Promise<HandlerOutcome>;
  close(): Promise<void>;
}
