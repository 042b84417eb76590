import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobshiftClient } from '../../src/client/client.js';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, createKey, runCli, startWithApi, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';

let dev: { proc: JobshiftProcess; url: string };
let dataDir: string;
let key: string;
let otherKey: string;
let client: JobshiftClient;

beforeAll(async () => {
  dataDir = tempDir();
  dev = await startWithApi('dev', dataDir, { JOBSHIFT_MAX_UPLOAD_BYTES: String(1024 * 1024), JOBSHIFT_MAX_JSON_BODY_BYTES: '65536' });
  key = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
  otherKey = await createKey(dataDir, 'other');
  client = clientFor(dev.url, key);
});
afterAll(async () => {
  await stopProcess(dev.proc);
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(dev.url + path, { method: 'POST', body, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers } });

async function expectProblem(response: Response, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as { code: string; field?: string; detail: string; requestId: string };
  expect(problem.code).toBe(code);
  expect(problem.requestId).toBeTruthy();
  if (field) {
    expect(problem.field).toBe(field);
    expect(problem.detail).toContain(field);
  }
  return problem;
}

describe('HTTP API', () => {
  it('serves health, readiness and an OpenAPI 3.1 document generated from the schemas', async () => {
    expect((await fetch(`${dev.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${dev.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const doc = (await (await fetch(`${dev.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/logs', '/v1/jobs/{id}/cancel', '/v1/jobs/{id}/retry', '/v1/jobs/{id}/artifacts/{name}', '/v1/uploads']) {
      expect(doc.paths).toHaveProperty([path]);
    }
    // POST /v1/jobs is served by a plain handler; its documentation is registered on its own.
    const submit = (doc.paths['/v1/jobs'] as { post: { parameters: { name: string; in: string }[]; requestBody: { content: Record<string, unknown> }; responses: Record<string, unknown> } }).post;
    expect(submit.parameters).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    expect(submit.requestBody.content).toHaveProperty(['application/json']);
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '401', '413', '415', '422']));
    expect(doc.components.schemas).toHaveProperty(['JobInput_image.thumbnail']);
    expect(doc.components.schemas).toHaveProperty(['JobInput_test.sleep']);
  });

  it('answers bad input with the right 4xx naming the field, and stores nothing', async () => {
    const before = (await client.listJobs({ limit: 100 })).items.length;
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'nope.nothing', input: {} })), 400, 'unknown_job_type', 'type');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'document.pdf', input: { title: 5, markdown: 'x' } })), 400, 'validation_failed', 'input.title');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'document.pdf', input: { markdown: 'x' } })), 400, 'validation_failed', 'input.title');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'document.pdf', input: { title: 'a', markdown: 'b', font: 'x' } })), 400, 'unknown_field', 'input.font');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'document.pdf', input: { title: 'a', markdown: 'b' }, priority: 1 })), 400, 'unknown_field', 'priority');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'test.sleep', input: { ms: 1 }, maxAttempts: 0 })), 400, 'validation_failed', 'maxAttempts');
    await expectProblem(
      await post('/v1/jobs', JSON.stringify({ type: 'image.thumbnail', input: { source: { upload: 'upl_0000000000000000000000000a' }, width: 10 } })),
      400,
      'upload_not_found',
      'input.source.upload',
    );
    await expectProblem(await post('/v1/jobs', '{"type": "document.pdf", '), 400, 'invalid_json');
    await expectProblem(await post('/v1/jobs', '[]'), 400, 'validation_failed', 'body');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ input: {} })), 400, 'validation_failed', 'type');
    const valid = JSON.stringify({ type: 'test.sleep', input: { ms: 1 } });
    await expectProblem(await post('/v1/jobs', valid, { 'idempotency-key': 'k'.repeat(256) }), 400, 'validation_failed', 'header.idempotency-key');
    await expectProblem(await post('/v1/jobs', valid, { 'idempotency-key': '' }), 400, 'validation_failed', 'header.idempotency-key');
    await expectProblem(await post('/v1/jobs', 'type=document.pdf', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'document.pdf', input: { title: 'a', markdown: 'x'.repeat(70_000) } })), 413, 'payload_too_large');
    // Without a Content-Length (chunked), the limit is counted as the body streams in.
    const chunked = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ type: 'document.pdf', input: { title: 'a', markdown: 'x'.repeat(70_000) } })));
        controller.close();
      },
    });
    await expectProblem(
      await fetch(`${dev.url}/v1/jobs`, { method: 'POST', body: chunked, duplex: 'half', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } } as RequestInit),
      413,
      'payload_too_large',
    );
    await expectProblem(await post('/v1/jobs', '{}', { authorization: '' }), 401, 'unauthorized');
    await expectProblem(await post('/v1/jobs', '{}', { authorization: 'Bearer jsk_wrong' }), 401, 'unauthorized');
    await expectProblem(await fetch(`${dev.url}/v1/jobs?limit=1000`, { headers: { authorization: `Bearer ${key}` } }), 400, 'validation_failed', 'query.limit');
    const big = await fetch(`${dev.url}/v1/uploads`, { method: 'POST', body: Buffer.alloc(2 * 1024 * 1024), headers: { authorization: `Bearer ${key}` } });
    await expectProblem(big, 413, 'payload_too_large');
    expect((await client.listJobs({ limit: 100 })).items.length).toBe(before);
  });

  it('hides one tenant\'s jobs from another and leaves them unchanged', async () => {
    const job = await client.submit({ type: 'test.sleep', input: { ms: 1 }, delaySeconds: 3600 });
    const other = clientFor(dev.url, otherKey);
    for (const call of [() => other.getJob(job.id), () => other.cancel(job.id), () => other.retry(job.id), () => other.logs(job.id)]) {
      await expect(call()).rejects.toMatchObject({ status: 404 });
    }
    expect((await other.listJobs()).items).toEqual([]);
    expect(await client.getJob(job.id)).toMatchObject({ status: 'queued', cancelRequested: false });
    await client.cancel(job.id);
  });

  it('returns the original job for a repeated Idempotency-Key and 422 for a different body', async () => {
    const body = JSON.stringify({ type: 'test.sleep', input: { ms: 5 } });
    const first = await post('/v1/jobs', body, { 'idempotency-key': 'order-17' });
    expect(first.status).toBe(202);
    expect(first.headers.get('location')).toMatch(/^\/v1\/jobs\/job_/);
    const id = ((await first.json()) as { id: string }).id;
    const again = await post('/v1/jobs', JSON.stringify({ input: { ms: 5 }, type: 'test.sleep' }), { 'idempotency-key': 'order-17' });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(id);
    await expectProblem(await post('/v1/jobs', JSON.stringify({ type: 'test.sleep', input: { ms: 6 } }), { 'idempotency-key': 'order-17' }), 422, 'idempotency_key_reused');
  });

  it('takes a batch of jobs in one request: all validated first, stored in order, replayable by key', async () => {
    const before = (await client.listJobs({ limit: 100 })).items.length;
    const bad = [{ type: 'test.sleep', input: { ms: 1 } }, { type: 'test.sleep', input: { ms: 'soon' } }];
    await expectProblem(await post('/v1/jobs/batch', JSON.stringify({ jobs: bad })), 400, 'validation_failed', 'jobs.1.input.ms');
    await expectProblem(await post('/v1/jobs/batch', JSON.stringify({ jobs: [{ type: 'nope.nothing' }] })), 400, 'unknown_job_type', 'jobs.0.type');
    await expectProblem(await post('/v1/jobs/batch', JSON.stringify({ jobs: [] })), 400, 'validation_failed', 'jobs');
    await expectProblem(await post('/v1/jobs/batch', JSON.stringify({ jobs: [{ type: 'test.sleep', input: { ms: 1 }, colour: 'red' }] })), 400, 'unknown_field', 'jobs.0.colour');
    expect((await client.listJobs({ limit: 100 })).items.length).toBe(before);

    const jobs = [
      { type: 'test.sleep', input: { ms: 1 }, idempotencyKey: 'batch-a' },
      { type: 'test.sleep', input: { ms: 2 } },
      { type: 'test.sleep', input: { ms: 3 }, delaySeconds: 3600, idempotencyKey: 'batch-c' },
    ];
    const accepted = await client.submitBatch(jobs);
    expect(accepted.created).toBe(3);
    expect(accepted.items.map((j) => j.input)).toEqual([{ ms: 1 }, { ms: 2 }, { ms: 3 }]);
    const [a, b, c] = accepted.items.map((j) => j.id);
    await waitUntil(async () => (await client.getJob(a as string)).status === 'succeeded' && (await client.getJob(b as string)).status === 'succeeded', 10_000);
    expect(await client.getJob(c as string)).toMatchObject({ status: 'queued' });

    const replay = await post('/v1/jobs/batch', JSON.stringify({ jobs: [jobs[0], jobs[2]] }));
    expect(replay.status).toBe(200);
    expect(((await replay.json()) as { items: { id: string }[]; created: number })).toMatchObject({ created: 0, items: [{ id: a }, { id: c }] });
    await expectProblem(await post('/v1/jobs/batch', JSON.stringify({ jobs: [{ ...jobs[0], input: { ms: 9 } }] })), 422, 'idempotency_key_reused');
    await client.cancel(c as string);
  });

  it('lists with cursors and filters, and shows logs with attempts', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await client.submit({ type: 'test.sleep', input: { ms: 1 } })).id);
    for (const id of ids) await client.waitForJob(id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listJobs({ type: 'test.sleep', status: 'succeeded', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((j) => j.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    const { items } = await client.logs(ids[0] as string);
    expect(items.map((l) => l.message)).toEqual(expect.arrayContaining(['queued', 'slept 1 ms', 'succeeded']));
    expect(items.find((l) => l.message === 'slept 1 ms')).toMatchObject({ attempt: 1, level: 'info' });
  });

  it('ends a poison job failed after maxAttempts with its error, and retries it on request', async () => {
    const job = await client.submit({ type: 'test.fail', input: {}, maxAttempts: 2 });
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'handler_error', message: 'always fails (attempt 2)' } });
    const retried = await client.retry(job.id);
    expect(retried.status).toBe('queued');
    expect(await client.waitForJob(job.id)).toMatchObject({ status: 'failed', attempts: 4 });
    await expect(client.retry((await client.submit({ type: 'test.sleep', input: { ms: 1 }, delaySeconds: 600 })).id)).rejects.toMatchObject({ status: 409 });
  });

  it('aborts a job past its timeout, and terminates a handler that ignores the abort', async () => {
    const polite = await client.submit({ type: 'test.wait', input: {}, timeoutSeconds: 0.5, maxAttempts: 1 });
    expect(await client.waitForJob(polite.id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
    const stubborn = await client.submit({ type: 'test.hang', input: {}, timeoutSeconds: 0.5, maxAttempts: 2 });
    expect(await client.waitForJob(stubborn.id)).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'timeout' } });
  });

  it('cancels queued jobs at once and running jobs through the abort signal; finished jobs give 409', async () => {
    const queued = await client.submit({ type: 'test.sleep', input: { ms: 1 }, delaySeconds: 600 });
    expect(await client.cancel(queued.id)).toMatchObject({ status: 'cancelled' });
    const running = await client.submit({ type: 'test.wait', input: {} });
    await waitUntil(async () => (await client.getJob(running.id)).status === 'running');
    expect(await client.cancel(running.id)).toMatchObject({ status: 'running', cancelRequested: true });
    expect(await client.waitForJob(running.id)).toMatchObject({ status: 'cancelled' });
    await expect(client.cancel(running.id)).rejects.toMatchObject({ status: 409, problem: { code: 'job_finished' } });
  });

  it('runs delayed jobs no earlier than asked', async () => {
    const job = await client.submit({ type: 'test.sleep', input: { ms: 1 }, delaySeconds: 2 });
    const done = await client.waitForJob(job.id);
    expect(Date.parse(done.startedAt as string) - Date.parse(job.createdAt)).toBeGreaterThanOrEqual(2000);
  });

  it('drives the CLI: upload, submit with --file, status, list, logs, download', async () => {
    const env = { JOBSHIFT_URL: dev.url };
    const csv = join(tempDir(), 'data.csv');
    (await import('node:fs')).writeFileSync(csv, 'a,b\n1,2\n3,4\n');
    const { stdout: jobId } = await runCli(
      ['submit', 'csv.transform', '--file', `source=${csv}`, '--input', '{"aggregates":[{"column":"b","fn":"sum"}]}', '--data-dir', dataDir],
      env,
    );
    await client.waitForJob(jobId.trim());
    const status = await runCli(['status', jobId.trim(), '--data-dir', dataDir], env);
    expect(status.stdout).toContain('succeeded');
    expect(status.stdout).toContain('output.csv');
    const out = tempDir();
    await runCli(['download', jobId.trim(), 'output.csv', '--out', out, '--data-dir', dataDir], env);
    expect(readFileSync(join(out, 'output.csv'), 'utf8')).toBe('sum_b\n6\n');
    expect((await runCli(['list', '--type', 'csv.transform', '--data-dir', dataDir], env)).stdout).toContain(jobId.trim());
    expect((await runCli(['logs', jobId.trim(), '--data-dir', dataDir], env)).stdout).toContain('succeeded');
    const failing = runCli(['submit', 'test.fail', '--input', '{"permanent":true}', '--wait', '--data-dir', dataDir], env);
    await expect(failing).rejects.toMatchObject({ code: 1 });
  });

  it('submits a JSON Lines file with submit-batch, naming the line of a bad job', async () => {
    const env = { JOBSHIFT_URL: dev.url };
    const { writeFileSync } = await import('node:fs');
    const file = join(tempDir(), 'jobs.jsonl');
    writeFileSync(file, ['{"type":"test.sleep","input":{"ms":1}}', '', '{"type":"test.sleep","input":{"ms":2},"idempotencyKey":"cli-batch-1"}', '{"type":"test.sleep","input":{"ms":3}}', ''].join('\n'));
    const { stdout } = await runCli(['submit-batch', file, '--data-dir', dataDir], env);
    const ids = stdout.trim().split('\n');
    expect(ids).toHaveLength(3);
    for (const [i, id] of ids.entries()) expect((await client.waitForJob(id)).input).toEqual({ ms: i + 1 });

    const before = (await client.listJobs({ limit: 100 })).items.length;
    writeFileSync(file, '{"type":"test.sleep","input":{"ms":1}}\n{"type":"test.sleep","input":{"ms":"x"}}\n');
    const invalid = (await runCli(['submit-batch', file, '--data-dir', dataDir], env).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toContain(`${file}:2: input.ms:`);
    writeFileSync(file, '{"type":"test.sleep","input":{"ms":1}}\nnot json\n');
    const broken = (await runCli(['submit-batch', file, '--data-dir', dataDir], env).catch((e: unknown) => e)) as { stderr: string };
    expect(broken.stderr).toContain(`${file}:2: expected a JSON object`);
    expect((await client.listJobs({ limit: 100 })).items.length).toBe(before);
  });

  it('rejects bad configuration at start with a message naming the setting', async () => {
    const result = runCli(['worker', '--lease-seconds', 'soon', '--data-dir', dataDir], { JOBSHIFT_CONCURRENCY: '0' });
    const error = (await result.catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(2);
    expect(error.stderr).toContain("--lease-seconds: expected seconds, at least 1, got 'soon'");
    expect(error.stderr).toContain("JOBSHIFT_CONCURRENCY (--concurrency): expected an integer from 1 to 1000, got '0'");
  });
});
