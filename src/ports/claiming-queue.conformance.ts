import { describe, expect, it } from 'vitest';
import { newId } from '../core/ids.js';
import type { JobQueue } from './job-queue.js';
import type { JobStore, NewJob } from './job-store.js';

/** The no-op job these tests (and their harnesses' other processes) create, due at `runAt`. */
export const claimingQueueJob = (runAt: number): NewJob => ({ id: newId('job'), tenant: 't1', type: 'test.noop', input: {}, maxAttempts: 3, timeoutSeconds: 30, runAt });

export interface ClaimingQueueHarness {
  store: JobStore;
  /** A queue in the store's database whose jobs table is the queue (`sharesStore`). */
  queue: JobQueue;
  /** A queue in the same database that does not share the store (its own message table). */
  separate: JobQueue;
  /** Creates a job through another connection to the same database (another process's API). */
  createElsewhere(runAt: number): Promise<string>;
  /** Rows in the queue's own message table. */
  messageCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Behaviour of a queue that shares the store's database and claims straight from its jobs table
 * (ReceiveOptions.claim, JobQueue.claimsFromStore), against real time. `pollIntervalMs` is how
 * often an idle receive looks at the table without a wake-up.
 */
export function runClaimingQueueConformance(name: string, open: (options: { pollIntervalMs: number }) => Promise<ClaimingQueueHarness>): void {
  const setup = async (pollIntervalMs: number) => {
    const h = await open({ pollIntervalMs });
    const create = async (runAt = Date.now()) => (await h.store.createJob(claimingQueueJob(runAt))).job.id;
    const submit = async () => {
      const id = await create();
      await h.queue.send([{ jobId: id, attempt: 0 }]);
      return id;
    };
    const receive = (options: { claim?: boolean; leaseMs?: number; waitTimeSeconds?: number; max?: number; queue?: JobQueue } = {}) =>
      (options.queue ?? h.queue).receive({
        maxMessages: options.max ?? 10,
        visibilityTimeoutSeconds: 1,
        waitTimeSeconds: options.waitTimeSeconds ?? 0,
        ...(options.claim !== false ? { claim: { workerId: 'w1', leaseMs: options.leaseMs ?? 5000 } } : {}),
      });
    return { ...h, create, submit, receive };
  };
  /** A test body with a fresh harness polling every `pollIntervalMs`, closed whatever the outcome. */
  const withSetup = (pollIntervalMs: number, fn: (t: Awaited<ReturnType<typeof setup>>) => Promise<void>) => async () => {
    const t = await setup(pollIntervalMs);
    try {
      await fn(t);
    } finally {
      await t.close();
    }
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  describe(`claiming queue conformance (the jobs table is the queue): ${name}`, () => {
    it('writes no message for a wake-up and claims due jobs from the table in the receive, oldest first, with their log lines', withSetup(20, async (t) => {
      expect(t.queue.claimsFromStore).toBe(true);
      const ids = [await t.submit()];
      await sleep(5);
      ids.push(await t.submit());
      expect(await t.messageCount()).toBe(0);
      const deliveries = await t.receive();
      expect(deliveries.map((d) => d.jobId)).toEqual(ids);
      for (const delivery of deliveries) {
        expect(delivery).toMatchObject({ attempt: 0, type: 'test.noop', receiveCount: 1 });
        expect(delivery.claimed).toMatchObject({ id: delivery.jobId, status: 'running', attempt: 1, workerId: 'w1' });
        expect(await t.store.getJob(delivery.jobId)).toMatchObject({ status: 'running', attempt: 1 });
        expect((await t.store.getLogs(delivery.jobId)).map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)']);
      }
      expect(await t.receive()).toEqual([]);
    }));

    it('claims no more than asked, leaves jobs that are not due, and takes jobs whose lease expired (worker died)', withSetup(20, async (t) => {
      const later = await t.create(Date.now() + 60_000);
      const first = await t.create();
      await sleep(5);
      const second = await t.create();
      const [taken, ...rest] = await t.receive({ max: 1, leaseMs: 50 });
      expect(rest).toEqual([]);
      expect(taken?.claimed).toMatchObject({ id: first, attempt: 1 });
      await sleep(80); // the first job's lease runs out: its worker is presumed dead
      const again = await t.receive();
      expect(again.map((d) => [d.jobId, d.claimed?.attempt]).sort()).toEqual(
        [
          [first, 2],
          [second, 1],
        ].sort(),
      );
      expect(await t.store.getJob(later)).toMatchObject({ status: 'queued', attempt: 0 });
      // The stale holder's completion is refused: the claim fenced it out.
      await expect(t.store.completeJob(first, 1, { result: null, artifacts: [] })).rejects.toThrow(/lease/i);
    }));

    it('claims a large batch in one receive: expired leases first, then the oldest due jobs, each with its lease and log line', withSetup(20, async (t) => {
      const now = Date.now();
      const dead = await t.create(now - 100);
      const [held] = await t.receive({ max: 1, leaseMs: 30 });
      expect(held?.jobId).toBe(dead);
      // 14 due jobs, each created due earlier than the one before (run_at order is not creation
      // or id order), and one not yet due.
      const due: string[] = [];
      for (let i = 0; i < 14; i++) due.unshift(await t.create(now - 50 - i));
      const later = await t.create(now + 60_000);
      await sleep(60); // the first claim's lease runs out
      const batch = await t.receive({ max: 12, leaseMs: 5000 });
      expect(batch.map((d) => d.jobId)).toEqual([dead, ...due.slice(0, 11)]);
      expect(batch.map((d) => d.claimed?.attempt)).toEqual([2, ...due.slice(0, 11).map(() => 1)]);
      for (const delivery of batch.slice(1)) {
        expect(delivery.claimed).toMatchObject({ status: 'running', workerId: 'w1', input: {} });
        expect(delivery.claimed?.leaseExpiresAt).toBeGreaterThan(Date.now() + 4000);
        expect((await t.store.getLogs(delivery.jobId)).map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)']);
      }
      const rest = await t.receive({ max: 12 });
      expect(rest.map((d) => d.jobId)).toEqual(due.slice(11));
      expect(await t.store.getJob(later)).toMatchObject({ status: 'queued', attempt: 0 });
      expect(await t.receive({ max: 12 })).toEqual([]);
    }));

    it('never hands the same job to two concurrent receives', withSetup(20, async (t) => {
      const ids = new Set<string>();
      for (let i = 0; i < 30; i++) ids.add(await t.create());
      const batches = await Promise.all(Array.from({ length: 6 }, () => t.receive({ max: 10 })));
      const claimed = batches.flat().map((d) => d.jobId);
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed.length).toBeLessThanOrEqual(30);
      // Whatever the first round left is there for the next.
      const rest = await t.receive({ max: 30 });
      expect(new Set([...claimed, ...rest.map((d) => d.jobId)])).toEqual(ids);
    }));

    it('ends a long poll at once on a send, and when a delayed job falls due', withSetup(10_000, async (t) => {
      // Polling would take 10 s: only the wake-up can end these receives early.
      const waiting = t.receive({ waitTimeSeconds: 8 });
      await sleep(50);
      const id = await t.submit();
      const startedAt = Date.now();
      expect((await waiting).map((d) => d.jobId)).toEqual([id]);
      expect(Date.now() - startedAt).toBeLessThan(5000);

      const delayed = await t.create(Date.now() + 300);
      const sentAt = Date.now();
      await t.queue.send([{ jobId: delayed, attempt: 0 }], { delaySeconds: 0.3 });
      const [woken] = await t.receive({ waitTimeSeconds: 8 });
      expect(woken?.jobId).toBe(delayed);
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(290);
      expect(Date.now() - sentAt).toBeLessThan(5000);
    }));

    it("ends a long poll at once on a hand-back, and on a failed attempt's retry when it falls due", withSetup(10_000, async (t) => {
      // Polling would take 10 s: only the wake-ups can end these receives early.
      const id = await t.submit();
      const [first] = await t.receive();
      if (!first) throw new Error('no delivery');
      const waiting = t.receive({ waitTimeSeconds: 8 });
      await sleep(50);
      const handedBackAt = Date.now();
      await t.store.releaseJob(id, 1);
      await t.queue.release(first);
      const [second] = await waiting;
      expect(second?.claimed).toMatchObject({ id, attempt: 2 });
      expect(Date.now() - handedBackAt).toBeLessThan(5000);
      if (!second) throw new Error('no delivery');

      const retrying = t.receive({ waitTimeSeconds: 8 });
      await sleep(50);
      const failedAt = Date.now();
      await t.store.failJob(id, 2, { error: { code: 'x', message: 'flaky' }, retryAt: failedAt + 300 });
      await t.queue.send([{ jobId: id, attempt: 2 }], { delaySeconds: 0.3 });
      await t.queue.ack(second);
      const [third] = await retrying;
      expect(third?.claimed).toMatchObject({ id, attempt: 3 });
      expect(Date.now() - failedAt).toBeGreaterThanOrEqual(290);
      expect(Date.now() - failedAt).toBeLessThan(5000);
    }));

    it("finds jobs another process created, without a wake-up, by polling", withSetup(20, async (t) => {
      const waiting = t.receive({ waitTimeSeconds: 5 });
      await sleep(50);
      const id = await t.createElsewhere(Date.now());
      expect((await waiting).map((d) => d.claimed?.id)).toEqual([id]);
    }));

    it('makes a handed-back job claimable at once and has nothing to ack', withSetup(20, async (t) => {
      const id = await t.submit();
      const [delivery] = await t.receive();
      if (!delivery) throw new Error('no delivery');
      await t.queue.extendVisibility(delivery, 30);
      await t.store.releaseJob(id, 1);
      await t.queue.release(delivery);
      const [again] = await t.receive();
      expect(again?.claimed).toMatchObject({ id, attempt: 2 });
      await t.store.completeJob(id, 2, { result: 'done', artifacts: [] });
      if (!again) throw new Error('no delivery');
      await t.queue.ack(again);
      expect(await t.store.getJob(id)).toMatchObject({ status: 'succeeded', result: 'done' });
      expect(await t.receive()).toEqual([]);
    }));

    it('refuses a receive that does not claim, naming what to pass', withSetup(20, async (t) => {
      await expect(t.receive({ claim: false })).rejects.toThrow(/pass \{ claim \}/);
    }));

    it('a queue that does not share the store ignores the claim option and writes its messages', withSetup(20, async (t) => {
      const id = await t.create();
      await t.separate.send([{ jobId: id, attempt: 0 }]);
      expect(await t.messageCount()).toBe(1);
      expect(t.separate.claimsFromStore ?? false).toBe(false);
      const [delivery] = await t.receive({ queue: t.separate });
      expect(delivery?.claimed).toBeUndefined();
      expect(await t.store.getJob(id)).toMatchObject({ status: 'queued' });
    }));
  });
}
