import type { AbortCode, ClassifiedFailure } from '../core/failure.js';
import type { ArtifactRef, Job } from '../core/job.js';

export type ThreadRequest = { kind: 'run'; job: Job } | { kind: 'abort'; code: AbortCode; message: string };

export type ThreadReply =
  | { kind: 'progress'; percent: number; message: string | null }
  | { kind: 'log'; message: string }
  | { kind: 'done'; result: unknown; artifacts: ArtifactRef[] }
  | { kind: 'failed'; error: ClassifiedFailure };
