import { createHash } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import type { Clock } from '../core/clock.js';
import { ValidationError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { WakeUp } from '../core/job.js';
import type { Logger } from '../core/logger.js';
import type { JobRegistry } from '../core/registry.js';
import { findUploadRefs } from '../core/upload-ref.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { artifactKeys } from '../ports/artifact-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { CreateJobResult, JobStore, NewJob } from '../ports/job-store.js';
import { validationErrorFromZod } from './problem.js';
import { canonicalJson } from './resources.js';
import type { SubmitJob } from './schemas.js';

export interface SubmissionDeps {
  store: JobStore;
  queue: JobQueue;
  artifacts: ArtifactStore;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
}

export interface Submission {
  body: z.infer<typeof SubmitJob>;
  idempotencyKey?: string | undefined;
}

/**
 * Checks one submission against its job type and turns it into the job to store. Field names in
 * errors start with `at` (`jobs.3.` for the fourth job of a batch).
 */
async function prepareJob(deps: SubmissionDeps, tenant: string, { body, idempotencyKey }: Submission, at: string, now: number): Promise<NewJob> {
  const definition = deps.registry.get(body.type);
  if (!definition) {
    const known = [...deps.registry.keys()].join(', ');
    throw new ValidationError(`${at}type`, `${at}type: unknown job type '${body.type}' (known types: ${known})`, 'unknown_job_type');
  }
  if (body.delaySeconds !== undefined && body.runAt !== undefined) {
    throw new ValidationError(`${at}runAt`, `${at}runAt: give either delaySeconds or runAt, not both`);
  }
  const parsed = definition.input.safeParse(body.input ?? {});
  if (!parsed.success) throw validationErrorFromZod(parsed.error as never, `${at}input`);
  for (const ref of findUploadRefs(parsed.data)) {
    if (!(await deps.artifacts.head(artifactKeys.upload(tenant, ref.uploadId)))) {
      const field = `${at}${ref.path}`;
      throw new ValidationError(field, `${field}: no upload '${ref.uploadId}' (send the file to POST /v1/uploads first)`, 'upload_not_found');
    }
  }
  return {
    id: newId('job', now),
    tenant,
    type: body.type,
    input: parsed.data,
    maxAttempts: body.maxAttempts ?? definition.maxAttempts,
    timeoutSeconds: body.timeoutSeconds ?? definition.timeoutSeconds,
    runAt: body.runAt !== undefined ? Date.parse(body.runAt) : now + Math.round((body.delaySeconds ?? 0) * 1000),
    ...(body.delaySeconds ? { delayMs: Math.round(body.delaySeconds * 1000) } : {}),
    ...(idempotencyKey ? { idempotency: { key: idempotencyKey, requestHash: createHash('sha256').update(canonicalJson(body)).digest('hex') } } : {}),
  };
}

/**
 * The submit path the API and library callers share: every job is validated first (nothing is
 * written if one is invalid), stored durably (a batch in one write where the store allows), and
 * only then are workers woken — one queue send per distinct delay. A lost wake-up is re-sent by
 * the reconciler, so it never fails a submit that is already durable.
 */
export async function submitJobs(deps: SubmissionDeps, tenant: string, submissions: readonly Submission[], options: { batch?: boolean } = {}): Promise<CreateJobResult[]> {
  const now = deps.clock.now();
  const jobs: NewJob[] = [];
  for (const [i, submission] of submissions.entries()) jobs.push(await prepareJob(deps, tenant, submission, options.batch ? `jobs.${i}.` : '', now));
  const create = () => (jobs.length === 1 ? deps.store.createJob(jobs[0] as NewJob).then((r) => [r]) : deps.store.createJobs(jobs));
  const wake = (created: readonly Pick<NewJob, 'id' | 'type' | 'runAt'>[]) => {
    const byDelay = new Map<number, WakeUp[]>();
    for (const job of created) {
      const delaySeconds = Math.max(0, Math.ceil((job.runAt - now) / 1000));
      const group = byDelay.get(delaySeconds) ?? [];
      group.push({ jobId: job.id, attempt: 0, type: job.type });
      byDelay.set(delaySeconds, group);
    }
    return Promise.all(
      [...byDelay].map(([delaySeconds, wakeUps]) =>
        deps.queue.send(wakeUps, delaySeconds > 0 ? { delaySeconds } : undefined).catch((error: unknown) => {
          deps.logger.warn('wake-up not sent; the reconciler will send it', { jobIds: wakeUps.slice(0, 5).map((w) => w.jobId), jobs: wakeUps.length, error: String(error) });
        }),
      ),
    );
  };
  if (deps.queue.commitsWithStore && jobs.every((job) => !job.idempotency)) {
    // One database: whatever the wake-up writes commits in the same transaction as the jobs
    // (every job without a key is new), and a poller of this process woken by it claims the new
    // jobs in that commit too (the embedded queue writes nothing: the job rows are the queue).
    // Should the jobs fail alone, nothing is claimable and the wake-up is harmless.
    const [results] = await Promise.all([create(), wake(jobs)]);
    return results;
  }
  const results = await create();
  await wake(results.filter((r) => r.created).map((r) => r.job));
  return results;
}
