import { Readable } from 'node:stream';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createRoute, z } from '@hono/zod-openapi';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { artifactKeys } from '../ports/artifact-store.js';
import type { AuthVariables } from './auth.js';
import type { ApiDeps } from './context.js';
import { Problem, Upload } from './schemas.js';

type App = OpenAPIHono<{ Variables: AuthVariables }>;
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } });

export function registerUploadRoutes(app: App, deps: ApiDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/uploads',
      summary: 'Upload a file (raw body, streamed to the artifact store); reference it in job input as { "upload": id }',
      security: [{ bearer: [] }],
      request: { body: { content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } }, required: true } },
      responses: {
        201: { description: 'Stored', content: { 'application/json': { schema: Upload } } },
        400: problem('Empty body'),
        401: problem('Missing or invalid API key'),
        413: problem('Larger than the upload limit'),
        503: problem('Store unavailable'),
      },
    }),
    async (c) => {
      const declared = Number(c.req.header('content-length') ?? Number.NaN);
      if (Number.isFinite(declared) && declared > deps.maxUploadBytes) throw new PayloadTooLargeError(deps.maxUploadBytes);
      const raw = c.req.raw.body;
      if (!raw || declared === 0) throw new ValidationError('body', 'body: expected the file bytes, got an empty body', 'empty_body');
      const contentType = (c.req.header('content-type') ?? 'application/octet-stream').split(';')[0]?.trim() || 'application/octet-stream';
      const tenant = c.get('tenant');
      const id = newId('upl', deps.clock.now());
      const body = Readable.fromWeb(raw as never);
      const info = await deps.artifacts.put(artifactKeys.upload(tenant, id), body, { contentType, maxBytes: deps.maxUploadBytes });
      if (info.bytes === 0) throw new ValidationError('body', 'body: expected the file bytes, got an empty body', 'empty_body');
      c.header('location', `/v1/uploads/${id}`);
      return c.json({ id, ...info }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/uploads/{id}',
      summary: "An upload's metadata",
      security: [{ bearer: [] }],
      request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }) },
      responses: { 200: { description: 'The upload', content: { 'application/json': { schema: Upload } } }, 404: problem('Not found') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const info = /^upl_[0-9a-z]{26}$/.test(id) ? await deps.artifacts.head(artifactKeys.upload(c.get('tenant'), id)) : null;
      if (!info) throw new NotFoundError(`upload '${id}' not found`, 'upload_not_found');
      return c.json({ id, ...info }, 200);
    },
  );
}
