import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../core/registry.js';
import { defineJob } from '../../core/define-job.js';
import { z } from 'zod';
import { claimingQueueJob, runClaimingQueueConformance } from '../../ports/claiming-queue.conformance.js';
import { embeddedPipeline } from '../../worker/embedded-pipeline.test-util.js';
import { processJob } from '../../worker/process-job.js';
import type { SqliteDatabase } from './database.js';
import { openSqliteDatabase } from './database.js';
import { createSqliteJobQueue } from './sqlite-job-queue.js';
import { createSqliteJobStore } from './sqlite-job-store.js';

const noop = defineJob({ type: 'test.noop', input: z.object({}).strict(), handler: () => ({ ok: true }) });
const registry = createRegistry([noop]);

const countMessages = (db: SqliteDatabase) => (db.prepare('SELECT count(*) AS n FROM queue_messages').get() as { n: number }).n;

runClaimingQueueConformance('sqlite', async ({ pollIntervalMs }) => {
  const { path, db, store, queue } = embeddedPipeline({ registry, sharesStore: true, pollIntervalMs });
  const other = openSqliteDatabase(path);
  const elsewhere = createSqliteJobStore({ db: other });
  return {
    store,
    queue,
    separate: createSqliteJobQueue({ db, pollIntervalMs, sharesStore: false }),
    createElsewhere: async (runAt) => (await elsewhere.createJob(claimingQueueJob(runAt))).job.id,
    messageCount: async () => countMessages(db),
    close: async () => {
      other.close();
      db.close();
    },
  };
});

function setup() {
  const { path, db, store, queue, deps } = embeddedPipeline({ registry, sharesStore: true, pollIntervalMs: 20, busyTimeoutMs: 50 });
  const create = async (runAt = Date.now()) => (await store.createJob(claimingQueueJob(runAt))).job.id;
  const submit = async () => {
    const id = await create();
    await queue.send([{ jobId: id, attempt: 0 }]);
    return id;
  };
  /** A wake-up message as an earlier version (one queue row per wake-up) wrote it. */
  const legacyMessage = (jobId: string) => db.prepare('INSERT INTO queue_messages (job_id, attempt, visible_at) VALUES (?, 0, 0)').run(jobId);
  const messageCount = () => countMessages(db);
  const receive = () => queue.receive({ maxMessages: 10, visibilityTimeoutSeconds: 1, waitTimeSeconds: 0, claim: { workerId: 'w1', leaseMs: 5000 } });
  return { db, path, store, queue, create, submit, legacyMessage, messageCount, receive, deps };
}

describe('SQLite queue sharing the store: processJob, messages of earlier versions, acks in the completion', () => {
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
