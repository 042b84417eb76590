import { z } from '@hono/zod-openapi';
import { jobStatuses } from '../core/job.js';

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: 'validation_failed' }),
    detail: z.string(),
    field: z.string().optional(),
    requestId: z.string(),
  })
  .openapi('Problem');

export const SubmitJob = z
  .object({
    type: z.string().min(1).openapi({ example: 'document.pdf', description: 'A job type from GET /v1/job-types' }),
    input: z.unknown().optional().openapi({ description: 'Validated against the job type input schema (components.schemas.JobInput_<type>); omitted means {}' }),
    delaySeconds: z.number().int().min(0).max(31_536_000).optional(),
    runAt: z.string().datetime({ offset: true }).optional().openapi({ description: 'ISO 8601 time to run at' }),
    maxAttempts: z.number().int().min(1).max(100).optional(),
    timeoutSeconds: z.number().positive().max(86_400).optional(),
  })
  .strict()
  .openapi('SubmitJob');

/** An idempotency key: the Idempotency-Key header of POST /v1/jobs, or a batch job's idempotencyKey. */
export const IdempotencyKey = z.string().min(1).max(255);

export const SubmitJobBatch = z
  .object({
    jobs: z
      .array(
        SubmitJob.extend({
          idempotencyKey: IdempotencyKey.optional().openapi({ description: 'Per job, like the Idempotency-Key header of POST /v1/jobs' }),
        }).strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict()
  .openapi('SubmitJobBatch');

export const Artifact = z
  .object({ name: z.string(), bytes: z.number().int(), contentType: z.string(), sha256: z.string(), url: z.string() })
  .openapi('Artifact');

export const JobResource = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(jobStatuses as [string, ...string[]]),
    input: z.unknown(),
    attempts: z.number().int().openapi({ description: 'Attempts started so far' }),
    maxAttempts: z.number().int(),
    timeoutSeconds: z.number(),
    cancelRequested: z.boolean(),
    progress: z.object({ percent: z.number(), message: z.string().nullable() }),
    result: z.unknown(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    artifacts: z.array(Artifact),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    runAt: z.string(),
  })
  .openapi('Job');

export const JobBatchResult = z
  .object({
    items: z.array(JobResource).openapi({ description: 'The jobs in the order submitted' }),
    created: z.number().int().openapi({ description: 'How many were new (the rest were idempotent replays)' }),
  })
  .openapi('JobBatchResult');

export const JobList = z.object({ items: z.array(JobResource), nextCursor: z.string().nullable() }).openapi('JobList');

export const ListQuery = z
  .object({
    status: z.enum(jobStatuses as [string, ...string[]]).optional(),
    type: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().optional(),
  })
  .strict();

export const LogList = z
  .object({
    items: z.array(z.object({ at: z.string(), attempt: z.number().int(), level: z.enum(['system', 'info']), message: z.string() })),
  })
  .openapi('JobLogs');

export const Upload = z
  .object({ id: z.string(), bytes: z.number().int(), sha256: z.string(), contentType: z.string() })
  .openapi('Upload');

export const JobTypeList = z
  .object({
    items: z.array(
      z.object({
        type: z.string(),
        description: z.string(),
        timeoutSeconds: z.number(),
        maxAttempts: z.number().int(),
        inputSchema: z.unknown(),
      }),
    ),
  })
  .openapi('JobTypes');

export const JobIdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });
