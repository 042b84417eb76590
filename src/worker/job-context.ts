import type { ArtifactBody, ArtifactInfo, JobContext } from '../core/define-job.js';
import { NonRetryableError, ValidationError } from '../core/errors.js';
import type { ArtifactRef, Job, JobProgress } from '../core/job.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { artifactKeys, isValidObjectName } from '../ports/artifact-store.js';

const uploadIdPattern = /^upl_[0-9a-z]{26}$/;

/** Builds the `ctx` a handler receives; artifacts written here are collected for publication. */
export function createJobContext(options: {
  job: Job;
  artifacts: ArtifactStore;
  signal: AbortSignal;
  onProgress(progress: JobProgress): void;
  onLog(message: string): void;
  written: ArtifactRef[];
}): JobContext {
  const { job, artifacts, written } = options;
  return {
    jobId: job.id,
    tenant: job.tenant,
    attempt: job.attempt,
    signal: options.signal,
    progress(percent, message) {
      const clamped = Math.max(0, Math.min(100, Number.isFinite(percent) ? percent : 0));
      options.onProgress({ percent: Math.round(clamped * 10) / 10, message: message ?? null });
    },
    log(message) {
      options.onLog(String(message));
    },
    artifacts: {
      async write(name: string, body: ArtifactBody, contentType: string): Promise<ArtifactInfo> {
        if (!isValidObjectName(name)) {
          throw new ValidationError('name', `artifact name '${name}' must be 1-128 letters, digits, '.', '_' or '-'`);
        }
        if (written.some((a) => a.name === name)) throw new ValidationError('name', `artifact '${name}' was already written`);
        options.signal.throwIfAborted();
        const key = artifactKeys.artifact(job.tenant, job.id, job.attempt, name);
        const info = await artifacts.put(key, body, { contentType });
        written.push({ name, key, ...info });
        return info;
      },
    },
    uploads: {
      async open(uploadId: string) {
        if (!uploadIdPattern.test(uploadId)) throw new NonRetryableError(`'${uploadId}' is not an upload id`, 'upload_not_found');
        const found = await artifacts.get(artifactKeys.upload(job.tenant, uploadId));
        if (!found) throw new NonRetryableError(`upload ${uploadId} not found`, 'upload_not_found');
        return found;
      },
    },
  };
}
