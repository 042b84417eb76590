import { describe, expect, it } from 'vitest';
import { ConflictError, IdempotencyMismatchError, LeaseLostError, NotFoundError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { JobStore, NewJob } from './job-store.js';

export interface StoreHarness {
  store: JobStore;
  /** Moves the store's notion of "now" forward. */
  advance(ms: number): Promise<void>;
  now(): number;
  close(): Promise<void>;
  /** createJobs writes all or none (SQL stores); DynamoDB writes each job on its own. */
  atomicBatches: boolean;
}

/**
 * The behaviour every JobStore adapter must have. Each test gets a fresh harness (its own
 * database or namespace) so a failing test leaves its state for inspection.
 */
export function runJobStoreConformance(name: string, createHarness: () => Promise<StoreHarness>): void {
  const newJob = (h: StoreHarness, overrides: Partial<NewJob> = {}): NewJob => ({
    id: newId('job', h.now()),
    tenant: 't1',
    type: 'test.echo',
    input: { n: 1 },
    maxAttempts: 3,
    timeoutSeconds: 60,
    runAt: h.now(),
    ...overrides,
  });
  const withHarness = (fn: (h: StoreHarness) => Promise<void>) => async () => {
    const h = await createHarness();
    try {
      await fn(h);
    } finally {
      await h.close();
    }
  };
  const claim = (h: StoreHarness, id: string, workerId = 'w1') => h.store.claimJob(id, { workerId, leaseMs: 1000 });

  describe(`JobStore conformance: ${name}`, () => {
    it('creates a durable queued job, scoped to its tenant', withHarness(async (h) => {
      const { job, created } = await h.store.createJob(newJob(h));
      expect(created).toBe(true);
      expect(job).toMatchObject({ status: 'queued', attempt: 0, attemptsCharged: 0, input: { n: 1 }, artifacts: [], result: null });
      // What the submit answers is exactly what is stored.
      expect(await h.store.getJob(job.id)).toEqual(job);
      expect((await h.store.getJob(job.id, 't1'))?.id).toBe(job.id);
      expect(await h.store.getJob(job.id, 't2')).toBeNull();
      expect(await h.store.getJob('job_missing')).toBeNull();
    }));

    it('returns the original job for a repeated idempotency key and rejects a different body', withHarness(async (h) => {
      const first = await h.store.createJob(newJob(h, { idempotency: { key: 'k1', requestHash: 'h1' } }));
      const again = await h.store.createJob(newJob(h, { idempotency: { key: 'k1', requestHash: 'h1' } }));
      expect(again).toMatchObject({ created: false, job: { id: first.job.id } });
      await expect(h.store.createJob(newJob(h, { idempotency: { key: 'k1', requestHash: 'h2' } }))).rejects.toBeInstanceOf(IdempotencyMismatchError);
      const otherTenant = await h.store.createJob(newJob(h, { tenant: 't2', idempotency: { key: 'k1', requestHash: 'h2' } }));
      expect(otherTenant.created).toBe(true);
    }));

    it('creates a batch in order, replays its idempotency keys, and refuses a reused key with another body', withHarness(async (h) => {
      const batch = Array.from({ length: 30 }, (_, n) => newJob(h, { input: { n }, ...(n % 10 === 0 ? { idempotency: { key: `bulk-${n}`, requestHash: `h${n}` } } : {}) }));
      const results = await h.store.createJobs(batch);
      expect(results.map((r) => r.job.id)).toEqual(batch.map((j) => j.id));
      expect(results.every((r) => r.created)).toBe(true);
      for (const [n, result] of results.entries()) {
        expect(result.job).toMatchObject({ status: 'queued', input: { n } });
        expect((await h.store.getJob(result.job.id, 't1'))?.input).toEqual({ n });
      }
      const replay = await h.store.createJobs([newJob(h, { idempotency: { key: 'bulk-10', requestHash: 'h10' } }), newJob(h)]);
      expect(replay[0]).toMatchObject({ created: false, job: { id: batch[10]?.id } });
      expect(replay[1]?.created).toBe(true);
      await expect(h.store.createJobs([newJob(h, { idempotency: { key: 'bulk-20', requestHash: 'other' } })])).rejects.toBeInstanceOf(IdempotencyMismatchError);
      // All or none where the store has transactions: a new job beside a refused replay is not stored.
      const fresh = newJob(h);
      await expect(h.store.createJobs([fresh, newJob(h, { idempotency: { key: 'bulk-20', requestHash: 'other' } })])).rejects.toBeInstanceOf(IdempotencyMismatchError);
      if (h.atomicBatches) expect(await h.store.getJob(fresh.id)).toBeNull();
      // One key twice in one batch: one job; the second is a replay of the first.
      const twice = await h.store.createJobs([newJob(h, { idempotency: { key: 'dup', requestHash: 'd' } }), newJob(h, { idempotency: { key: 'dup', requestHash: 'd' } })]);
      expect(twice.map((r) => r.created)).toEqual([true, false]);
      expect(twice[1]?.job.id).toBe(twice[0]?.job.id);
      expect((await h.store.getLogs(results[0]?.job.id as string)).map((l) => l.message)).toEqual(['queued']);
      expect(await h.store.createJobs([])).toEqual([]);
    }));

    it('claims once per lease and fences the stale attempt after expiry', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h));
      const first = await claim(h, job.id, 'w1');
      expect(first).toMatchObject({ status: 'running', attempt: 1, attemptsCharged: 1, workerId: 'w1' });
      expect(await claim(h, job.id, 'w2')).toBeNull();
      await h.advance(1500);
      const second = await claim(h, job.id, 'w2');
      expect(second).toMatchObject({ attempt: 2, attemptsCharged: 2, workerId: 'w2' });
      await expect(h.store.renewLease(job.id, 1, 1000)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(h.store.recordProgress(job.id, 1, { percent: 5, message: null })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(h.store.appendLog(job.id, 1, 'stale')).rejects.toBeInstanceOf(LeaseLostError);
      await expect(h.store.completeJob(job.id, 1, { result: 1, artifacts: [] })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(h.store.failJob(job.id, 1, { error: { code: 'x', message: 'x' }, retryAt: null })).rejects.toBeInstanceOf(LeaseLostError);
      await expect(h.store.releaseJob(job.id, 1)).rejects.toBeInstanceOf(LeaseLostError);
      await h.store.completeJob(job.id, 2, { result: { ok: true }, artifacts: [] });
      expect(await h.store.getJob(job.id)).toMatchObject({ status: 'succeeded', result: { ok: true } });
    }));

    it('keeps a lease alive with renewals and reports progress and logs', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h));
      await claim(h, job.id);
      await h.advance(800);
      expect(await h.store.renewLease(job.id, 1, 1000)).toEqual({ cancelRequested: false });
      await h.advance(800);
      expect(await claim(h, job.id, 'w2')).toBeNull();
      await h.store.recordProgress(job.id, 1, { percent: 42, message: 'half' });
      await h.store.appendLog(job.id, 1, 'hello from the handler');
      expect((await h.store.getJob(job.id))?.progress).toEqual({ percent: 42, message: 'half' });
      const logs = await h.store.getLogs(job.id);
      expect(logs.map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)', 'hello from the handler']);
      expect(logs[2]).toMatchObject({ attempt: 1, level: 'info' });
    }));

    it.each([
      ['a millisecond apart', 1],
      ['all within one millisecond', 0],
    ])("keeps a job's whole history — transitions and its handlers' lines, every attempt — in the order written, %s", (_, gapMs) => withHarness(async (h) => {
      const step = () => h.advance(gapMs);
      const { job } = await h.store.createJob(newJob(h));
      await step();
      await claim(h, job.id);
      await step();
      await h.store.appendLog(job.id, 1, 'first try');
      await step();
      const retryAt = new Date(h.now()).toISOString();
      await h.store.failJob(job.id, 1, { error: { code: 'e', message: 'boom' }, retryAt: h.now() });
      await step();
      await claim(h, job.id, 'w2');
      await step();
      await h.store.appendLog(job.id, 2, 'second try: 1');
      await step();
      await h.store.appendLog(job.id, 2, 'second try: 2');
      await step();
      await h.store.completeJob(job.id, 2, { result: null, artifacts: [] });
      await step();
      expect((await h.store.getLogs(job.id)).map((l) => [l.attempt, l.level, l.message])).toEqual([
        [0, 'system', 'queued'],
        [1, 'system', 'claimed by w1 (attempt 1)'],
        [1, 'info', 'first try'],
        [1, 'system', `attempt 1 failed: boom; retry at ${retryAt}`],
        [2, 'system', 'claimed by w2 (attempt 2)'],
        [2, 'info', 'second try: 1'],
        [2, 'info', 'second try: 2'],
        [2, 'system', 'succeeded'],
      ]);
      const times = (await h.store.getLogs(job.id)).map((l) => l.at);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      // A stale attempt's line is refused and recorded nowhere.
      await expect(h.store.appendLog(job.id, 1, 'stale')).rejects.toBeInstanceOf(LeaseLostError);
      expect(await h.store.getLogs(job.id)).toHaveLength(8);
    })());

    it('does not claim a job before it is due', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h, { runAt: h.now() + 5000 }));
      expect(await claim(h, job.id)).toBeNull();
      await h.advance(5000);
      expect(await claim(h, job.id)).toMatchObject({ attempt: 1 });
    }));

    it("runs a job given a delay that long after its creation by the store's clock, whatever runAt the caller estimated", withHarness(async (h) => {
      // A caller whose clock runs 10 s slow estimated runAt from it; the delay is what counts.
      const { job } = await h.store.createJob(newJob(h, { runAt: h.now() - 10_000 + 3000, delayMs: 3000 }));
      expect(job.runAt - job.createdAt).toBe(3000);
      expect(await claim(h, job.id)).toBeNull();
      await h.advance(2999);
      expect(await claim(h, job.id)).toBeNull();
      await h.advance(1);
      expect(await claim(h, job.id)).toMatchObject({ attempt: 1 });
    }));

    it('completes many jobs at once, each fenced on its own', withHarness(async (h) => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { job } = await h.store.createJob(newJob(h, { input: { n: i } }));
        await claim(h, job.id);
        ids.push(job.id);
      }
      const [a, b, c, d] = ids as [string, string, string, string];
      await h.advance(1500);
      expect(await claim(h, a, 'w2')).toMatchObject({ attempt: 2 }); // a's first holder lost its lease
      const outcome = async (id: string, attempt: number) =>
        h.store.completeJob(id, attempt, { result: { id, attempt }, artifacts: [] }).then(
          () => 'done',
          (error: unknown) => (error instanceof LeaseLostError ? 'lease lost' : String(error)),
        );
      const results = await Promise.all([outcome(a, 1), outcome(b, 1), outcome(c, 1), outcome(d, 1), outcome(a, 2), outcome(b, 1)]);
      expect(results.slice(0, 5)).toEqual(['lease lost', 'done', 'done', 'done', 'done']);
      // b completed twice at once: one completion wins, the other finds it finished.
      expect([results[1], results[5]].sort()).toEqual(['done', 'lease lost']);
      expect(await h.store.getJob(a)).toMatchObject({ status: 'succeeded', result: { id: a, attempt: 2 } });
      for (const id of [b, c, d]) {
        expect(await h.store.getJob(id)).toMatchObject({ status: 'succeeded', result: { id, attempt: 1 } });
        expect((await h.store.getLogs(id)).filter((l) => l.message === 'succeeded')).toHaveLength(1);
      }
    }));

    it('completes exactly once with result and artifacts', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h));
      await claim(h, job.id);
      const artifacts = [{ name: 'a.txt', key: 'jobs/t1/x/1/a.txt', bytes: 3, contentType: 'text/plain', sha256: 'abc' }];
      await h.store.completeJob(job.id, 1, { result: { n: 2 }, artifacts });
      await expect(h.store.completeJob(job.id, 1, { result: { n: 3 }, artifacts: [] })).rejects.toBeInstanceOf(LeaseLostError);
      const done = await h.store.getJob(job.id);
      expect(done).toMatchObject({ status: 'succeeded', result: { n: 2 }, artifacts });
      expect(done?.finishedAt).not.toBeNull();
      expect(await claim(h, job.id)).toBeNull();
      expect((await h.store.getLogs(job.id)).filter((l) => l.message === 'succeeded')).toHaveLength(1);
    }));

    it('schedules a retry at retryAt, and fails terminally when told', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h));
      await claim(h, job.id);
      await h.store.failJob(job.id, 1, { error: { code: 'boom', message: 'boom' }, retryAt: h.now() + 2000 });
      expect(await h.store.getJob(job.id)).toMatchObject({ status: 'queued', error: { code: 'boom', message: 'boom' } });
      expect(await claim(h, job.id)).toBeNull();
      await h.advance(2000);
      await claim(h, job.id);
      await h.store.failJob(job.id, 2, { error: { code: 'boom', message: 'final' }, retryAt: null });
      expect(await h.store.getJob(job.id)).toMatchObject({ status: 'failed', error: { message: 'final' }, attempt: 2 });
      expect(await claim(h, job.id)).toBeNull();
    }));

    it('hands a job back without charging the attempt', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h));
      await claim(h, job.id);
      await h.store.releaseJob(job.id, 1);
      expect(await h.store.getJob(job.id)).toMatchObject({ status: 'queued', attemptsCharged: 0, attempt: 1 });
      expect(await claim(h, job.id, 'w2')).toMatchObject({ attempt: 2, attemptsCharged: 1 });
      await h.store.releaseJob(job.id, 2, 'not started: claimed ahead of a free slot');
      const released = (await h.store.getLogs(job.id)).map((l) => l.message).filter((m) => m.startsWith('handed back'));
      expect(released).toEqual(['handed back (worker shutting down)', 'handed back (not started: claimed ahead of a free slot)']);
    }));

    it('cancels queued jobs at once and running jobs by request', withHarness(async (h) => {
      const { job: queued } = await h.store.createJob(newJob(h));
      expect(await h.store.cancelJob(queued.id, 't1')).toMatchObject({ status: 'cancelled' });
      expect(await claim(h, queued.id)).toBeNull();
      await expect(h.store.cancelJob(queued.id, 't1')).rejects.toBeInstanceOf(ConflictError);
      await expect(h.store.cancelJob(queued.id, 't2')).rejects.toBeInstanceOf(NotFoundError);

      const { job: running } = await h.store.createJob(newJob(h));
      await claim(h, running.id);
      expect(await h.store.cancelJob(running.id, 't1')).toMatchObject({ status: 'running', cancelRequested: true });
      expect(await h.store.renewLease(running.id, 1, 1000)).toEqual({ cancelRequested: true });
      await h.store.markCancelled(running.id, 1);
      expect(await h.store.getJob(running.id)).toMatchObject({ status: 'cancelled' });
    }));

    it('retries failed and cancelled jobs with a fresh budget, and nothing else', withHarness(async (h) => {
      const { job } = await h.store.createJob(newJob(h, { maxAttempts: 1 }));
      await expect(h.store.retryJob(job.id, 't1')).rejects.toBeInstanceOf(ConflictError);
      await claim(h, job.id);
      await h.store.failJob(job.id, 1, { error: { code: 'x', message: 'x' }, retryAt: null });
      await expect(h.store.retryJob(job.id, 't2')).rejects.toBeInstanceOf(NotFoundError);
      expect(await h.store.retryJob(job.id, 't1')).toMatchObject({ status: 'queued', attemptsCharged: 0, error: null });
      expect(await claim(h, job.id)).toMatchObject({ attempt: 2, attemptsCharged: 1 });
    }));

    it('lists a tenant\'s jobs newest first with cursor pagination and filters', withHarness(async (h) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await h.store.createJob(newJob(h, { type: i % 2 ? 'test.odd' : 'test.even' }))).job.id);
        await h.advance(10);
      }
      await h.store.createJob(newJob(h, { tenant: 't2' }));
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.store.listJobs({ tenant: 't1', limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((j) => j.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
      const odd = await h.store.listJobs({ tenant: 't1', limit: 10, type: 'test.odd' });
      expect(odd.items.map((j) => j.id)).toEqual([ids[3], ids[1]]);
      await h.store.cancelJob(ids[0] as string, 't1');
      const cancelled = await h.store.listJobs({ tenant: 't1', limit: 10, status: 'cancelled' });
      expect(cancelled.items.map((j) => j.id)).toEqual([ids[0]]);
    }));

    it('abandons unfinished jobs (dead letters) and leaves finished ones alone', withHarness(async (h) => {
      const { job: queued } = await h.store.createJob(newJob(h));
      const { job: running } = await h.store.createJob(newJob(h));
      await claim(h, running.id);
      const dead = { code: 'dead_lettered', message: 'gave up' };
      expect(await h.store.abandonJob(queued.id, dead)).toBe(true);
      expect(await h.store.abandonJob(running.id, dead)).toBe(true);
      expect(await h.store.getJob(running.id)).toMatchObject({ status: 'failed', error: dead });
      await expect(h.store.completeJob(running.id, 1, { result: 1, artifacts: [] })).rejects.toBeInstanceOf(LeaseLostError);
      expect(await h.store.abandonJob(queued.id, dead)).toBe(false);
      expect(await claim(h, queued.id)).toBeNull();
    }));

    it('hands out due jobs and expired leases for wake-up, once per idle period', withHarness(async (h) => {
      const { job: fresh } = await h.store.createJob(newJob(h));
      expect(await h.store.takeDue({ limit: 10, wakeIdleMs: 5000 })).toEqual([]);
      await h.advance(5000);
      expect(await h.store.takeDue({ limit: 10, wakeIdleMs: 5000 })).toEqual([{ jobId: fresh.id, attempt: 0, type: 'test.echo' }]);
      expect(await h.store.takeDue({ limit: 10, wakeIdleMs: 5000 })).toEqual([]);
      await claim(h, fresh.id);
      await h.advance(1000);
      expect(await h.store.takeDue({ limit: 10, wakeIdleMs: 5000 })).toEqual([{ jobId: fresh.id, attempt: 1, type: 'test.echo' }]);
    }));
  });
}
