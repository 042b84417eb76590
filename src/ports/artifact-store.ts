import type { Readable } from 'node:stream';
import type { ArtifactBody, ArtifactInfo } from '../core/define-job.js';

export interface PutOptions {
  contentType: string;
  /** Reject (PayloadTooLargeError) and leave nothing behind when the body grows past this. */
  maxBytes?: number;
}

/** Blob storage for uploads and artifacts. Keys are built server-side from validated parts. */
export interface ArtifactStore {
  put(key: string, body: ArtifactBody, options: PutOptions): Promise<ArtifactInfo>;
  head(key: string): Promise<ArtifactInfo | null>;
  get(key: string): Promise<{ info: ArtifactInfo; body: Readable } | null>;
  /** Remove every object under the prefix (cleanup of an abandoned attempt). */
  deletePrefix(prefix: string): Promise<void>;
  /**
   * Optional capability: a time-limited URL a client can GET without credentials
   * (S3 presigned URL). Stores without it are streamed through the API.
   */
  presignGet?(key: string, options: { expiresSeconds: number; filename: string }): Promise<string>;
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidObjectName(name: string): boolean {
  return namePattern.test(name) && !name.includes('..');
}

/** Every key is built here, server-side, from validated parts: `tenants/<tenant>/...`. */
export const artifactKeys = {
  upload: (tenant: string, uploadId: string) => `tenants/${tenant}/uploads/${uploadId}`,
  attemptPrefix: (tenant: string, jobId: string, attempt: number) => `tenants/${tenant}/jobs/${jobId}/${attempt}/`,
  artifact: (tenant: string, jobId: string, attempt: number, name: string) => `tenants/${tenant}/jobs/${jobId}/${attempt}/${name}`,
};
