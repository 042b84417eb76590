import { Readable } from 'node:stream';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { NotFoundError } from '../core/errors.js';
import type { JobStatus } from '../core/job.js';
import type { AuthVariables } from './auth.js';
import type { ApiDeps } from './context.js';
import { toJobResource } from './resources.js';
import { IdempotencyKey, JobBatchResult, JobIdParam, JobList, JobResource, ListQuery, LogList, Problem, SubmitJob, SubmitJobBatch } from './schemas.js';
import { validationErrorFromZod } from './problem.js';
import { submitJobs } from './submissions.js';
import type { CreateJobResult } from '../ports/job-store.js';

type App = OpenAPIHono<{ Variables: AuthVariables }>;

const problems = {
  400: { description: 'Invalid input', content: { 'application/problem+json': { schema: Problem } } },
  401: { description: 'Missing or invalid API key', content: { 'application/problem+json': { schema: Problem } } },
  404: { description: 'No such job for this tenant', content: { 'application/problem+json': { schema: Problem } } },
  503: { description: 'Store unavailable; retry after Retry-After seconds', content: { 'application/problem+json': { schema: Problem } } },
};
const jobJson = { content: { 'application/json': { schema: JobResource } } };
const security = [{ bearer: [] }];

const submitRoute = createRoute({
  method: 'post',
  path: '/v1/jobs',
  summary: 'Submit a job',
  security,
  request: {
    body: { content: { 'application/json': { schema: SubmitJob } }, required: true },
    headers: z.object({ 'idempotency-key': IdempotencyKey.optional() }),
  },
  responses: {
    202: { description: 'Accepted: the job is durably stored', ...jobJson },
    200: { description: 'Idempotent replay: the job created earlier with this Idempotency-Key', ...jobJson },
    ...problems,
    409: { description: 'Conflict', content: { 'application/problem+json': { schema: Problem } } },
    413: { description: 'Body too large', content: { 'application/problem+json': { schema: Problem } } },
    415: { description: 'Not application/json', content: { 'application/problem+json': { schema: Problem } } },
    422: { description: 'Idempotency-Key reused with another body', content: { 'application/problem+json': { schema: Problem } } },
  },
});

const batchRoute = createRoute({
  method: 'post',
  path: '/v1/jobs/batch',
  summary: 'Submit up to 1,000 jobs at once',
  description:
    'Every job is validated before any is stored (an error names the field, e.g. jobs.3.input.title). On the embedded and ' +
    'PostgreSQL stores the batch is written in one transaction; on DynamoDB each job is its own write, so retry a failed ' +
    'batch with per-job idempotencyKey values.',
  security,
  request: { body: { content: { 'application/json': { schema: SubmitJobBatch } }, required: true } },
  responses: {
    202: { description: 'Accepted: every job is durably stored', content: { 'application/json': { schema: JobBatchResult } } },
    200: { description: 'Every job was an idempotent replay', content: { 'application/json': { schema: JobBatchResult } } },
    ...problems,
    413: { description: 'Body too large', content: { 'application/problem+json': { schema: Problem } } },
    415: { description: 'Not application/json', content: { 'application/problem+json': { schema: Problem } } },
    422: { description: 'An idempotencyKey reused with another body', content: { 'application/problem+json': { schema: Problem } } },
  },
});

/** Reads a JSON body as the framework's validator does: a body that does not parse is a 400 `invalid_json`. */
async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new HTTPException(400, { message: 'Malformed JSON in request body' });
  }
}

/**
 * The Idempotency-Key header, checked on its own: a schema for the headers makes the framework
 * copy every request header into a fetch Headers object, ≈ 15% of a submit's cost.
 */
function idempotencyKeyOf(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  const checked = IdempotencyKey.safeParse(key);
  if (!checked.success) throw validationErrorFromZod(checked.error as never, 'header.idempotency-key');
  return checked.data;
}

export function registerJobRoutes(app: App, deps: ApiDeps): void {
  // The busiest route is registered as a plain handler that validates once: the body against
  // SubmitJob here, the input against its job type in submitJobs. The OpenAPI route adds a
  // media-type gate and a validator per request part, ≈ a quarter of a submit's cost; the
  // content type is already checked for /v1/jobs in app.ts. The document still describes it.
  app.openAPIRegistry.registerPath(submitRoute);
  app.post('/v1/jobs', async (c) => {
    const parsed = SubmitJob.safeParse(await jsonBody(c));
    if (!parsed.success) throw validationErrorFromZod(parsed.error as never, '');
    const [result] = await submitJobs(deps, c.get('tenant'), [{ body: parsed.data, idempotencyKey: idempotencyKeyOf(c) }]);
    const { job, created } = result as CreateJobResult;
    c.header('location', `/v1/jobs/${job.id}`);
    return c.json(toJobResource(job) as never, created ? 202 : 200);
  });

  app.openapi(batchRoute, async (c) => {
    const { jobs } = c.req.valid('json');
    const results = await submitJobs(
      deps,
      c.get('tenant'),
      jobs.map(({ idempotencyKey, ...body }) => ({ body, idempotencyKey })),
      { batch: true },
    );
    const created = results.filter((r) => r.created).length;
    return c.json({ items: results.map((r) => toJobResource(r.job)), created } as never, created > 0 ? 202 : 200);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs',
      summary: 'List jobs, newest first',
      security,
      request: { query: ListQuery },
      responses: { 200: { description: 'A page of jobs', content: { 'application/json': { schema: JobList } } }, ...problems },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const page = await deps.store.listJobs({
        tenant: c.get('tenant'),
        limit: query.limit,
        ...(query.status ? { status: query.status as JobStatus } : {}),
        ...(query.type ? { type: query.type } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      return c.json({ items: page.items.map(toJobResource), nextCursor: page.nextCursor } as never, 200);
    },
  );

  const findJob = async (id: string, tenant: string) => {
    const job = await deps.store.getJob(id, tenant);
    if (!job) throw new NotFoundError(`job '${id}' not found`, 'job_not_found');
    return job;
  };

  app.openapi(
    createRoute({ method: 'get', path: '/v1/jobs/{id}', summary: 'Get a job', security, request: { params: JobIdParam }, responses: { 200: { description: 'The job', ...jobJson }, ...problems } }),
    async (c) => c.json(toJobResource(await findJob(c.req.valid('param').id, c.get('tenant'))) as never, 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}/logs',
      summary: "A job's log: transitions (level system) and handler lines (level info)",
      security,
      request: { params: JobIdParam },
      responses: { 200: { description: 'Log lines, oldest first', content: { 'application/json': { schema: LogList } } }, ...problems },
    }),
    async (c) => {
      const job = await findJob(c.req.valid('param').id, c.get('tenant'));
      const lines = await deps.store.getLogs(job.id);
      return c.json({ items: lines.map((l) => ({ ...l, at: new Date(l.at).toISOString() })) } as never, 200);
    },
  );

  for (const action of ['cancel', 'retry'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/v1/jobs/{id}/${action}`,
        summary:
          action === 'cancel'
            ? 'Cancel a job: queued jobs at once, running jobs through their abort signal'
            : 'Retry a failed or cancelled job with a fresh attempt budget',
        security,
        request: { params: JobIdParam },
        responses: {
          200: { description: 'The job after the request', ...jobJson },
          ...problems,
          409: { description: 'Not allowed in the current status', content: { 'application/problem+json': { schema: Problem } } },
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const tenant = c.get('tenant');
        const job = action === 'cancel' ? await deps.store.cancelJob(id, tenant) : await deps.store.retryJob(id, tenant);
        if (action === 'retry') {
          await deps.queue.send([{ jobId: job.id, attempt: job.attempt, type: job.type }]).catch((error: unknown) => {
            deps.logger.warn('wake-up not sent; the reconciler will send it', { jobId: job.id, error: String(error) });
          });
        }
        return c.json(toJobResource(job) as never, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/jobs/{id}/artifacts/{name}',
      summary: 'Download an artifact',
      security,
      request: { params: JobIdParam.extend({ name: z.string().openapi({ param: { name: 'name', in: 'path' } }) }) },
      responses: {
        302: { description: 'Redirect to a presigned URL valid for presignSeconds (S3 artifacts, downloads=redirect)' },
        200: { description: 'The file, streamed', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
        ...problems,
      },
    }),
    async (c) => {
      const { id, name } = c.req.valid('param');
      const job = await findJob(id, c.get('tenant'));
      const artifact = job.artifacts.find((a) => a.name === name);
      if (artifact && deps.artifactDownloads === 'redirect' && deps.artifacts.presignGet) {
        const url = await deps.artifacts.presignGet(artifact.key, { expiresSeconds: deps.presignSeconds, filename: name });
        return new Response(null, { status: 302, headers: { location: url, 'cache-control': 'no-store' } }) as never;
      }
      const found = artifact ? await deps.artifacts.get(artifact.key) : null;
      if (!found) throw new NotFoundError(`job '${id}' has no artifact '${name}'`, 'artifact_not_found');
      return new Response(Readable.toWeb(found.body) as ReadableStream, {
        status: 200,
        headers: {
          'content-type': found.info.contentType,
          'content-length': String(found.info.bytes),
          'content-disposition': `attachment; filename="${name}"`,
          etag: `"${found.info.sha256}"`,
        },
      }) as never;
    },
  );
}

