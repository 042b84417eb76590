import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, createKey, leaseSeconds, startWithApi, startWorker, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';

const running: JobshiftProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p, 'SIGKILL')));
});

async function stack(env: Record<string, string> = {}) {
  const dataDir = tempDir();
  const api = await startWithApi('api', dataDir, env);
  running.push(api.proc);
  const client = clientFor(api.url, await createKey(dataDir, 'signals'));
  return { dataDir, api, client };
}

describe('worker processes and signals', () => {
  it('a handler that blocks its thread for 3× the lease runs exactly once', async () => {
    const { dataDir, client } = await stack();
    const effects = join(dataDir, 'effects.log');
    const worker = await startWorker(dataDir, { JOBSHIFT_TEST_EFFECTS: effects, JOBSHIFT_CONCURRENCY: '2' });
    running.push(worker.proc);
    const spare = await startWorker(dataDir, { JOBSHIFT_TEST_EFFECTS: effects, JOBSHIFT_CONCURRENCY: '2' });
    running.push(spare.proc);
    const blockMs = 3 * leaseSeconds * 1000;
    const job = await client.submit({ type: 'test.block', input: { ms: blockMs } });
    expect(await client.waitForJob(job.id)).toMatchObject({ status: 'succeeded', attempts: 1, result: { blockedMs: blockMs } });
    const starts = readFileSync(effects, 'utf8').split('\n').filter((l) => l.startsWith(`${job.id} `) && l.endsWith(' start'));
    expect(starts).toEqual([`${job.id} 1 start`]);
  });

  it('SIGTERM: stops claiming within 1 s, finishes short jobs, hands back long ones, exits 0 within the drain budget', async () => {
    const { dataDir, client } = await stack();
    const drainSeconds = 8;
    const worker = await startWorker(dataDir, { JOBSHIFT_CONCURRENCY: '3', JOBSHIFT_DRAIN_SECONDS: String(drainSeconds) });
    const short = await client.submit({ type: 'test.sleep', input: { ms: 1000 } });
    const long = await client.submit({ type: 'test.wait', input: {} });
    // Both handlers have started (they report progress first thing), not merely been claimed.
    await waitUntil(async () => {
      const [s, l] = await Promise.all([client.getJob(short.id), client.getJob(long.id)]);
      return s.progress.message === 'sleeping' && l.progress.message === 'waiting for abort';
    });
    const signalledAt = Date.now();
    worker.proc.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const late = await client.submit({ type: 'test.sleep', input: { ms: 1 } });
    const { code } = await worker.proc.exited;
    const exitedAfterMs = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(exitedAfterMs).toBeLessThanOrEqual(drainSeconds * 1000 + 1500);
    expect(await client.getJob(short.id)).toMatchObject({ status: 'succeeded' });
    expect(await client.getJob(long.id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect((await client.logs(long.id)).items.map((l) => l.message)).toContain('handed back (worker shutting down)');
    expect(await client.getJob(late.id)).toMatchObject({ status: 'queued', attempts: 0 });

    // The handed-back job and the late one run on the next worker without waiting for a lease to expire.
    const next = await startWorker(dataDir);
    running.push(next.proc);
    expect(await client.waitForJob(late.id)).toMatchObject({ status: 'succeeded' });
    await waitUntil(async () => (await client.getJob(long.id)).status === 'running', 10_000);
    await client.cancel(long.id);
    expect(await client.waitForJob(long.id)).toMatchObject({ status: 'cancelled' });
  });

  it('SIGKILL of the API right after a 202: the job is still there and completes', async () => {
    const dataDir = tempDir();
    const api = await startWithApi('api', dataDir);
    const key = await createKey(dataDir, 'durable');
    const response = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'document.pdf', input: { title: 'Durable', markdown: 'still here' } }),
    });
    api.proc.child.kill('SIGKILL');
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await api.proc.exited;
    const restarted = await startWithApi('dev', dataDir);
    running.push(restarted.proc);
    expect(await clientFor(restarted.url, key).waitForJob(id)).toMatchObject({ status: 'succeeded', result: { pages: 1 } });
  });
});
