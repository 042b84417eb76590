// The HTTP ceiling: the same framework (Hono on @hono/node-server) and process type as
// `jobshift api`, answering POST /v1/jobs with 202 after reading the JSON body — no auth,
// validation or storage. Prints "listening on <url>".
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

let n = 0;
const app = new Hono();
app.post('/v1/jobs', async (c) => {
  const body = (await c.req.json()) as { type?: string };
  n += 1;
  return c.json({ id: `job_${n}`, type: body.type ?? null, status: 'queued' }, 202);
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(`listening on http://127.0.0.1:${info.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
