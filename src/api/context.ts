import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { JobRegistry } from '../core/registry.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { ApiKeyStore, JobStore } from '../ports/job-store.js';

export interface ApiDeps {
  store: JobStore;
  keys: ApiKeyStore;
  queue: JobQueue;
  artifacts: ArtifactStore;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  maxUploadBytes: number;
  maxJsonBodyBytes: number;
  /** `redirect`: answer artifact downloads with 302 to a presigned URL when the store can make one. */
  artifactDownloads: 'redirect' | 'stream';
  presignSeconds: number;
  /** True once the process is shutting down: /readyz answers 503 so the load balancer drains it. */
  isDraining(): boolean;
}
