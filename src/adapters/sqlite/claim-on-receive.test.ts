import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { silentLogger } from '../../core/logger.js';
import { createRegistry } from '../../core/registry.js';
import { defineJob } from '../../core/define-job.js';
import { z } from 'zod';
import { createFsArtifactStore } from '../fs/fs-artifact-store.js';
import { createInlineExecutor } from '../../worker/inline-executor.js';
import { processJob } from '../../worker/process-job.js';
import { openSqliteDatabase } from './database.js';
import { createSqliteJobQueue } from './sqlite-job-queue.js';
import { createSqliteJobStore } from './sqlite-job-store.js';

const noop = defineJob({ type: 'test.noop', input: z.object({}).strict(), handler: () => ({ ok: true }) });
const registry = createRegistry([noop]);

function setup(sharesStore = true) {
  const dir = mkdtempSync(join(tmpdir(), 'jobshift-fused-'));
  const path = join(dir, 'db.sqlite');
  const db = openSqliteDatabase(path, { busyTimeoutMs: 50 });
  const store = createSqliteJobStore({ db });
  const queue = createSqliteJobQueue({ db, pollIntervalMs: 20, sharesStore });
  const artifacts = createFsArtifactStore({ rootDir: join(dir, 'artifacts') });
  const submit = async () => {
    const { job } = await store.createJob({ id: newId('job'), tenant: 't1', type: 'test.noop', input: {}, maxAttempts: 3, timeoutSeconds: 30, runAt: Date.now() });
    await queue.send([{ jobId: job.id, attempt: 0 }]);
    return job.id;
  };
  const receive = (claim = true) =>
    queue.receive({ maxMessages: 10, visibilityTimeoutSeconds: 1, waitTimeSeconds: 0, ...(claim ? { claim: { workerId: 'w1', leaseMs: 5000 } } : {}) });
  return { db, path, store, queue, artifacts, submit, receive };
}

describe('SQLite queue sharing the store: claim with the receive, ack with the completion', () => {
  it('hands out deliveries whose jobs are claimed in the same commit, with their log lines', async () => {
    const t = setup();
    const ids = [await t.submit(), await t.submit()];
    const deliveries = await t.receive();
    expect(deliveries.map((d) => d.jobId).sort()).toEqual([...ids].sort());
    for (const delivery of deliveries) {
      expect(delivery.claimed).toMatchObject({ id: delivery.jobId, status: 'running', attempt: 1, workerId: 'w1' });
      expect(await t.store.getJob(delivery.jobId)).toMatchObject({ status: 'running', attempt: 1 });
      expect((await t.store.getLogs(delivery.jobId)).map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)']);
    }
    t.db.close();
  });

  it('reports null for a job that cannot be claimed, and leaves claiming to the caller when not asked', async () => {
    const t = setup();
    const id = await t.submit();
    await t.queue.send([{ jobId: id, attempt: 0 }]); // a duplicate wake-up
    const [first, second] = await t.receive();
    expect(first?.claimed).toMatchObject({ id, attempt: 1 });
    expect(second?.claimed).toBeNull();

    const other = await t.submit();
    const [plain] = await t.receive(false);
    expect(plain?.jobId).toBe(other);
    expect(plain?.claimed).toBeUndefined();
    expect(await t.store.getJob(other)).toMatchObject({ status: 'queued', attempt: 0 });
    t.db.close();
  });

  it('ignores the claim option when the store lives elsewhere', async () => {
    const t = setup(false);
    const id = await t.submit();
    const [delivery] = await t.receive();
    expect(delivery?.claimed).toBeUndefined();
    expect(t.queue.commitsWithStore).toBe(false);
    expect(await t.store.getJob(id)).toMatchObject({ status: 'queued' });
    t.db.close();
  });

  it('acks again after a completion whose first commit failed, so the job neither reruns nor stays unacked', async () => {
    const t = setup();
    expect(t.queue.commitsWithStore).toBe(true);
    const id = await t.submit();
    const [delivery] = await t.receive();
    if (!delivery) throw new Error('no delivery');
    // Another process holds the write lock while the completion and its ack try to commit together.
    const other = openSqliteDatabase(t.path);
    other.prepare('BEGIN IMMEDIATE').run();
    const release = setTimeout(() => other.prepare('COMMIT').run(), 150);
    const outcome = await processJob(delivery, {
      store: t.store,
      queue: t.queue,
      artifacts: t.artifacts,
      executor: createInlineExecutor({ registry, artifacts: t.artifacts }),
      registry,
      clock: systemClock,
      logger: silentLogger,
      workerId: 'w1',
      leaseMs: 5000,
      heartbeatMs: 1000,
      shutdown: new AbortController().signal,
    });
    clearTimeout(release);
    other.close();
    expect(outcome).toBe('succeeded');
    expect(await t.store.getJob(id)).toMatchObject({ status: 'succeeded', result: { ok: true }, attempt: 1 });
    // The message is gone for good: nothing comes back after its visibility timeout.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await t.receive()).toEqual([]);
    t.db.close();
  });
});
