import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import { createRegistry, definitionsFromModule } from '../core/registry.js';
import { builtinJobs } from '../jobs/index.js';
import { artifactKeys } from '../ports/artifact-store.js';
import * as fixtures from '../../test/fixtures/jobs.js';
import type { ProcessJobDeps } from './process-job.js';
import { embeddedPipeline } from './embedded-pipeline.test-util.js';
import { processJob } from './process-job.js';

const registry = createRegistry([...builtinJobs, ...definitionsFromModule(fixtures as never)]);
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function setup(overrides: Partial<ProcessJobDeps> = {}) {
  const { db, store, queue, artifacts, shutdown, deps } = embeddedPipeline({
    registry,
    deps: { leaseMs: 2000, heartbeatMs: 50, progressIntervalMs: 10, ...overrides },
  });
  cleanups.push(() => db.close());
  const submit = async (type: string, input: unknown, extra: { maxAttempts?: number; timeoutSeconds?: number } = {}) => {
    const { job } = await store.createJob({
      id: newId('job'),
      tenant: 't1',
      type,
      input,
      maxAttempts: extra.maxAttempts ?? 3,
      timeoutSeconds: extra.timeoutSeconds ?? 30,
      runAt: Date.now(),
    });
    await queue.send([{ jobId: job.id, attempt: 0 }]);
    return job.id;
  };
  /** Receives and processes one message, as a runtime would. */
  const step = async (d: ProcessJobDeps = deps) => {
    const [delivery] = await queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 2, waitTimeSeconds: 3 });
    if (!delivery) throw new Error('no message arrived');
    return processJob(delivery, d);
  };
  return { deps, store, queue, artifacts, shutdown, submit, step };
}

describe('processJob', () => {
  it('drops a prefetched job quietly when its lease was taken over before it got a slot', async () => {
    const t = setup({ heartbeatMs: 10_000, leaseMs: 100 });
    const id = await t.submit('test.sleep', { ms: 1 });
    const [delivery] = await t.queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 2, waitTimeSeconds: 3 });
    if (!delivery) throw new Error('no message arrived');
    const outcome = await processJob(delivery, t.deps, {
      handlerSlot: async () => {
        await sleep(150); // no heartbeat meanwhile: the lease runs out and another worker claims the job
        expect(await t.store.claimJob(id, { workerId: 'w2', leaseMs: 5000 })).toMatchObject({ attempt: 2 });
        return false;
      },
    });
    expect(outcome).toBe('lost');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'running', attempt: 2, workerId: 'w2' });
  });

  it('keeps the lease while a prefetched job waits for a slot, and hands it back unstarted when refused one', async () => {
    const t = setup({ heartbeatMs: 30, leaseMs: 100 });
    const id = await t.submit('test.sleep', { ms: 1 });
    const [delivery] = await t.queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 2, waitTimeSeconds: 3 });
    if (!delivery) throw new Error('no message arrived');
    let handlerDone = 0;
    let ran = 0;
    const counting = {
      ...t.deps.executor,
      run: (...args: Parameters<typeof t.deps.executor.run>) => {
        ran += 1;
        return t.deps.executor.run(...args);
      },
    };
    // The slot is refused after 3 lease lengths: the heartbeat must have kept the claim meanwhile.
    const outcome = await processJob(delivery, { ...t.deps, executor: counting }, {
      handlerSlot: async () => {
        await sleep(300);
        const job = await t.store.getJob(id);
        expect(job).toMatchObject({ status: 'running', attempt: 1 });
        expect(job?.leaseExpiresAt).toBeGreaterThan(Date.now());
        return false;
      },
      handlerDone: () => {
        handlerDone += 1;
      },
    });
    expect(outcome).toBe('released');
    expect(ran).toBe(0);
    expect(handlerDone).toBe(1);
    const job = await t.store.getJob(id);
    expect(job).toMatchObject({ status: 'queued', attempt: 1, attemptsCharged: 0, startedAt: expect.any(Number) });
    const logs = (await t.store.getLogs(id)).map((l) => l.message);
    expect(logs).toContain('handed back (not started: claimed ahead of a free slot)');
  });

  it('runs the handler, publishes its artifact with the completion, and acks', async () => {
    const t = setup();
    const id = await t.submit('test.sleep', { ms: 1 });
    expect(await t.step()).toBe('succeeded');
    const job = await t.store.getJob(id);
    expect(job).toMatchObject({ status: 'succeeded', result: { slept: 1 }, attempt: 1, progress: { percent: 100 } });
    expect(job?.artifacts.map((a) => a.name)).toEqual(['out.txt']);
    expect(await t.artifacts.head(job?.artifacts[0]?.key as string)).toMatchObject({ bytes: id.length + 1 });
    expect((await t.store.getLogs(id)).map((l) => l.message)).toContain('slept 1 ms');
    expect(await t.queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 1, waitTimeSeconds: 0 })).toEqual([]);
  });

  it('retries a throwing handler with backoff and ends failed after maxAttempts with the error', async () => {
    const t = setup();
    const id = await t.submit('test.fail', {}, { maxAttempts: 3 });
    expect(await t.step()).toBe('retrying');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'queued', error: { message: 'always fails (attempt 1)' } });
    expect(await t.step()).toBe('retrying');
    expect(await t.step()).toBe('failed');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'failed', attempt: 3, error: { code: 'handler_error', message: 'always fails (attempt 3)' } });
  });

  it('fails at once on a non-retryable error', async () => {
    const t = setup();
    const id = await t.submit('test.fail', { permanent: true });
    expect(await t.step()).toBe('failed');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'non_retryable' } });
  });

  it('aborts a job that exceeds its timeout and retries it per policy', async () => {
    const t = setup();
    const id = await t.submit('test.wait', {}, { timeoutSeconds: 0.2, maxAttempts: 2 });
    expect(await t.step()).toBe('retrying');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'queued', error: { code: 'timeout' } });
    expect(await t.step()).toBe('failed');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'failed', error: { code: 'timeout', message: expect.stringContaining('timeoutSeconds') } });
  });

  it('gives a handler that looks at its signal only after the timeout a signal already aborted, with the reason', async () => {
    const t = setup();
    const id = await t.submit('test.sleep', { ms: 1 }, { timeoutSeconds: 0.1, maxAttempts: 1 });
    let seen: { aborted: boolean; reason: unknown } | undefined;
    const lateLooker = {
      ...t.deps.executor,
      async run(run: Parameters<typeof t.deps.executor.run>[0]) {
        await sleep(250);
        seen = { aborted: run.signal.aborted, reason: run.signal.reason };
        run.signal.throwIfAborted();
        return { result: null, artifacts: [] };
      },
    };
    expect(await t.step({ ...t.deps, executor: lateLooker })).toBe('failed');
    expect(seen).toMatchObject({ aborted: true, reason: { message: expect.stringContaining('timeoutSeconds') } });
    expect(await t.store.getJob(id)).toMatchObject({ status: 'failed', error: { code: 'timeout' } });
  });

  it('cancels a running job through its abort signal', async () => {
    const t = setup();
    const id = await t.submit('test.wait', {});
    const running = t.step();
    await sleep(100);
    expect(await t.store.cancelJob(id, 't1')).toMatchObject({ status: 'running', cancelRequested: true });
    expect(await running).toBe('cancelled');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'cancelled' });
  });

  it("writes the handler's log lines before its outcome, however slowly the store takes them", async () => {
    const t = setup();
    const id = await t.submit('test.sleep', { ms: 1 });
    const slowLogs = {
      ...t.store,
      appendLog: async (...args: Parameters<typeof t.store.appendLog>) => {
        await sleep(100);
        return t.store.appendLog(...args);
      },
    };
    expect(await t.step({ ...t.deps, store: slowLogs })).toBe('succeeded');
    const messages = (await t.store.getLogs(id)).map((l) => l.message);
    expect(messages.slice(-2)).toEqual(['slept 1 ms', 'succeeded']);
  });

  it('hands a running job back on shutdown without charging the attempt', async () => {
    const t = setup();
    const id = await t.submit('test.wait', {});
    const running = t.step();
    await sleep(100);
    t.shutdown.abort();
    expect(await running).toBe('released');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'queued', attemptsCharged: 0, attempt: 1, artifacts: [] });
    // The handed-back attempt's file was removed after the hand-back.
    expect(await t.artifacts.head(artifactKeys.artifact('t1', id, 1, 'partial.txt'))).toBeNull();
    const [again] = await t.queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 1, waitTimeSeconds: 1 });
    expect(again?.jobId).toBe(id);
  });

  it('drops the result of an attempt whose lease was taken over, and keeps the new owner\'s', async () => {
    const t = setup({ leaseMs: 200, heartbeatMs: 60_000 });
    const id = await t.submit('test.sleep', { ms: 600 });
    const stale = t.step();
    await sleep(300);
    const thief = await t.store.claimJob(id, { workerId: 'w2', leaseMs: 10_000 });
    expect(thief?.attempt).toBe(2);
    expect(await stale).toBe('lost');
    await t.store.completeJob(id, 2, { result: 'w2', artifacts: [] });
    expect(await t.store.getJob(id)).toMatchObject({ status: 'succeeded', result: 'w2', artifacts: [] });
    expect(await t.artifacts.head(artifactKeys.artifact('t1', id, 1, 'out.txt'))).toBeNull();
  });

  it('fails a job whose worker died during its final attempt instead of running it again', async () => {
    const t = setup({ leaseMs: 100 });
    const id = await t.submit('test.sleep', { ms: 1 }, { maxAttempts: 1 });
    await t.store.claimJob(id, { workerId: 'dead', leaseMs: 100 });
    await sleep(150);
    await t.queue.send([{ jobId: id, attempt: 1 }]);
    const [first] = await t.queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 1, waitTimeSeconds: 1 });
    await t.queue.ack(first as never);
    expect(await t.step()).toBe('failed');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'failed', error: { code: 'attempts_exhausted' } });
  });

  it('acks a duplicate wake-up for a job that is already finished', async () => {
    const t = setup();
    const id = await t.submit('test.sleep', { ms: 1 });
    await t.queue.send([{ jobId: id, attempt: 0 }]);
    expect(await t.step()).toBe('succeeded');
    expect(await t.step()).toBe('skipped');
    expect((await t.store.getLogs(id)).filter((l) => l.message === 'succeeded')).toHaveLength(1);
  });
});
