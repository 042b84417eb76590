import { describe, expect, it } from 'vitest';
import { newId } from '../../core/ids.js';
import { createRegistry } from '../../core/registry.js';
import { defineJob } from '../../core/define-job.js';
import { z } from 'zod';
import { embeddedPipeline } from '../../worker/embedded-pipeline.test-util.js';
import { processJob } from '../../worker/process-job.js';
import { openSqliteDatabase } from './database.js';
import { createSqliteJobStore } from './sqlite-job-store.js';

const noop = defineJob({ type: 'test.noop', input: z.object({}).strict(), handler: () => ({ ok: true }) });
const registry = createRegistry([noop]);

function setup(sharesStore = true, pollIntervalMs = 20) {
  const { path, db, store, queue, artifacts, deps } = embeddedPipeline({ registry, sharesStore, pollIntervalMs, busyTimeoutMs: 50 });
  const create = async (runAt = Date.now()) =>
    (await store.createJob({ id: newId('job'), tenant: 't1', type: 'test.noop', input: {}, maxAttempts: 3, timeoutSeconds: 30, runAt })).job.id;
  const submit = async () => {
    const id = await create();
    await queue.send([{ jobId: id, attempt: 0 }]);
    return id;
  };
  /** A wake-up message as an earlier version (one queue row per wake-up) wrote it. */
  const legacyMessage = (jobId: string) => db.prepare('INSERT INTO queue_messages (job_id, attempt, visible_at) VALUES (?, 0, 0)').run(jobId);
  const messageCount = () => (db.prepare('SELECT count(*) AS n FROM queue_messages').get() as { n: number }).n;
  const receive = (options: { claim?: boolean; leaseMs?: number; waitTimeSeconds?: number; max?: number } = {}) =>
    queue.receive({
      maxMessages: options.max ?? 10,
      visibilityTimeoutSeconds: 1,
      waitTimeSeconds: options.waitTimeSeconds ?? 0,
      ...(options.claim !== false ? { claim: { workerId: 'w1', leaseMs: options.leaseMs ?? 5000 } } : {}),
    });
  return { db, path, store, queue, artifacts, create, submit, legacyMessage, messageCount, receive, deps };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SQLite queue sharing the store: the jobs table is the queue', () => {
  it('writes no message for a wake-up and claims due jobs from the table in the receive, with their log lines', async () => {
    const t = setup();
    const ids = [await t.submit(), await t.submit()];
    expect(t.messageCount()).toBe(0);
    const deliveries = await t.receive();
    expect(deliveries.map((d) => d.jobId)).toEqual(ids); // oldest first
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ attempt: 0, type: 'test.noop', receiveCount: 1 });
      expect(delivery.claimed).toMatchObject({ id: delivery.jobId, status: 'running', attempt: 1, workerId: 'w1' });
      expect(await t.store.getJob(delivery.jobId)).toMatchObject({ status: 'running', attempt: 1 });
      expect((await t.store.getLogs(delivery.jobId)).map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)']);
    }
    expect(await t.receive()).toEqual([]);
    t.db.close();
  });

  it('claims no more than asked, leaves jobs that are not due, and takes jobs whose lease expired (worker died)', async () => {
    const t = setup();
    const later = await t.create(Date.now() + 60_000);
    const first = await t.create();
    const second = await t.create();
    const [taken, ...rest] = await t.receive({ max: 1, leaseMs: 50 });
    expect(rest).toEqual([]);
    expect(taken?.claimed).toMatchObject({ id: first, attempt: 1 });
    await sleep(80); // the first job's lease runs out: its worker is presumed dead
    const again = await t.receive();
    expect(again.map((d) => [d.jobId, d.claimed?.attempt])).toEqual([
      [first, 2],
      [second, 1],
    ]);
    expect(await t.store.getJob(later)).toMatchObject({ status: 'queued', attempt: 0 });
    // The stale holder's completion is refused: the claim fenced it out.
    await expect(t.store.completeJob(first, 1, { result: null, artifacts: [] })).rejects.toThrow(/lease/i);
    t.db.close();
  });

  it('runs a job through processJob with nothing to ack, and never hands it out again', async () => {
    const t = setup();
    const id = await t.submit();
    const [delivery] = await t.receive();
    if (!delivery) throw new Error('no delivery');
    expect(await processJob(delivery, t.deps)).toBe('succeeded');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'succeeded', result: { ok: true }, attempt: 1 });
    expect(t.messageCount()).toBe(0);
    expect(await t.receive()).toEqual([]);
    t.db.close();
  });

  it('wakes a long poll of this process at once on a send, and when a delayed job falls due', async () => {
    // Polling would take 10 s: only the wake-up can end these receives early.
    const t = setup(true, 10_000);
    const waiting = t.receive({ waitTimeSeconds: 8 });
    await sleep(30);
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
    t.db.close();
  });

  it("finds another process's jobs by polling", async () => {
    const t = setup(true, 20);
    const other = createSqliteJobStore({ db: openSqliteDatabase(t.path) });
    const waiting = t.receive({ waitTimeSeconds: 5 });
    await sleep(50);
    const { job } = await other.createJob({ id: newId('job'), tenant: 't1', type: 'test.noop', input: {}, maxAttempts: 3, timeoutSeconds: 30, runAt: Date.now() });
    expect((await waiting).map((d) => d.claimed?.id)).toEqual([job.id]);
    t.db.close();
  });

  it('refuses a receive that does not claim, naming what to pass', async () => {
    const t = setup();
    await expect(t.receive({ claim: false })).rejects.toThrow(/pass \{ claim \}/);
    t.db.close();
  });

  it('still delivers messages written by an earlier version, claimed first, and acks them', async () => {
    const t = setup();
    const id = await t.create();
    t.legacyMessage(id);
    t.legacyMessage(id); // a duplicate wake-up
    const [first, second, ...rest] = await t.receive();
    expect(rest).toEqual([]);
    expect(first?.claimed).toMatchObject({ id, attempt: 1 });
    expect(second?.claimed).toBeNull();
    if (!first || !second) throw new Error('no deliveries');
    expect(await processJob(second, t.deps)).toBe('skipped');
    expect(await processJob(first, t.deps)).toBe('succeeded');
    expect(t.messageCount()).toBe(0);
    t.db.close();
  });

  it('ignores the claim option when the store lives elsewhere', async () => {
    const t = setup(false);
    const id = await t.submit();
    expect(t.messageCount()).toBe(1);
    const [delivery] = await t.receive();
    expect(delivery?.claimed).toBeUndefined();
    expect(t.queue.commitsWithStore).toBe(false);
    expect(await t.store.getJob(id)).toMatchObject({ status: 'queued' });
    t.db.close();
  });

  it('acks a message again after a completion whose first commit failed, so the job neither reruns nor stays unacked', async () => {
    const t = setup();
    expect(t.queue.commitsWithStore).toBe(true);
    const id = await t.create();
    t.legacyMessage(id);
    const [delivery] = await t.receive();
    if (!delivery) throw new Error('no delivery');
    // Another process holds the write lock while the completion and its ack try to commit together.
    const other = openSqliteDatabase(t.path);
    other.prepare('BEGIN IMMEDIATE').run();
    const release = setTimeout(() => other.prepare('COMMIT').run(), 150);
    const outcome = await processJob(delivery, t.deps);
    clearTimeout(release);
    other.close();
    expect(outcome).toBe('succeeded');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'succeeded', result: { ok: true }, attempt: 1 });
    // The message is gone for good.
    expect(t.messageCount()).toBe(0);
    expect(await t.receive()).toEqual([]);
    t.db.close();
  });
});
