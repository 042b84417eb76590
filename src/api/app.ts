import { randomUUID } from 'node:crypto';
import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { toJSONSchema } from 'zod';
import { NotFoundError, PayloadTooLargeError, StoreUnavailableError, UnsupportedMediaTypeError } from '../core/errors.js';
import type { AuthVariables } from './auth.js';
import { requireApiKey } from './auth.js';
import type { ApiDeps } from './context.js';
import { problemJson, validationErrorFromZod } from './problem.js';
import { registerJobRoutes } from './routes-jobs.js';
import { registerUploadRoutes } from './routes-uploads.js';
import { JobTypeList } from './schemas.js';

const version = '0.1.0';

function inputSchemaOf(schema: unknown): unknown {
  try {
    return toJSONSchema(schema as never, { io: 'input', unrepresentable: 'any' });
  } catch {
    return {};
  }
}

/**
 * The HTTP API as a plain fetch handler (no listen here): runtimes wrap it at the edge.
 * @example
 * const app = createApp(deps);
 * serve({ fetch: app.fetch, port: 8080 });
 */
export function createApp(deps: ApiDeps) {
  const app = new OpenAPIHono<{ Variables: AuthVariables }>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const prefix = result.target === 'json' ? '' : result.target === 'query' ? 'query' : result.target === 'header' ? 'header' : '';
        return problemJson(c, validationErrorFromZod(result.error as never, prefix));
      }
      return undefined;
    },
  });

  app.use('*', async (c, next) => {
    const requestId = c.req.header('x-request-id') ?? randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    await next();
  });
  app.onError((error, c) => {
    const response = problemJson(c, error);
    if (response.status >= 500 && !(error instanceof StoreUnavailableError)) {
      deps.logger.error('request failed', { path: c.req.path, requestId: c.get('requestId'), error: error.stack ?? String(error) });
    }
    return response;
  });
  app.notFound((c) => problemJson(c, new NotFoundError(`no route for ${c.req.method} ${c.req.path}`, 'route_not_found')));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    if (deps.isDraining()) return problemJson(c, new StoreUnavailableError('shutting down', { retryAfterSeconds: 5 }));
    await deps.store.ping();
    return c.json({ status: 'ready' });
  });

  app.use('/v1/*', requireApiKey(deps.keys));
  const jsonBodyLimit = bodyLimit({
    maxSize: deps.maxJsonBodyBytes,
    onError: () => {
      throw new PayloadTooLargeError(deps.maxJsonBodyBytes);
    },
  });
  app.use('/v1/jobs', async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const contentType = c.req.header('content-type');
    if (!contentType || !/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(contentType)) {
      throw new UnsupportedMediaTypeError('application/json', contentType);
    }
    // With a Content-Length (Node's parser holds the body to it) the header decides, without
    // touching c.req.raw.body: that would build a full fetch Request per call, a third of the
    // cost of a submit. Chunked bodies are counted as they stream.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > deps.maxJsonBodyBytes) throw new PayloadTooLargeError(deps.maxJsonBodyBytes);
      return next();
    }
    return jsonBodyLimit(c, next);
  });

  registerJobRoutes(app, deps);
  registerUploadRoutes(app, deps);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/job-types',
      summary: 'The job types this API accepts, with their input JSON Schemas',
      security: [{ bearer: [] }],
      responses: { 200: { description: 'Job types', content: { 'application/json': { schema: JobTypeList } } } },
    }),
    (c) =>
      c.json(
        {
          items: [...deps.registry.values()].map((d) => ({
            type: d.type,
            description: d.description,
            timeoutSeconds: d.timeoutSeconds,
            maxAttempts: d.maxAttempts,
            inputSchema: inputSchemaOf(d.input),
          })),
        },
        200,
      ),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.get('/openapi.json', (c) => {
    const document = app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'jobshift API', version, description: 'Submit jobs, follow them, download their artifacts.' },
    });
    const components = document.components ?? {};
    const schemas = components.schemas ?? {};
    for (const definition of deps.registry.values()) schemas[`JobInput_${definition.type}`] = inputSchemaOf(definition.input) as never;
    document.components = { ...components, schemas };
    return c.json(document);
  });

  return app;
}

