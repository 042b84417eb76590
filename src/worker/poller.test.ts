import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from '../adapters/sqlite/database.js';
import { createSqliteJobQueue } from '../adapters/sqlite/sqlite-job-queue.js';
import { silentLogger } from '../core/logger.js';
import { startPoller } from './poller.js';

async function withQueue(messages: number) {
  const db = openSqliteDatabase(join(mkdtempSync(join(tmpdir(), 'jobshift-poller-')), 'db.sqlite'));
  const queue = createSqliteJobQueue({ db, pollIntervalMs: 20 });
  await queue.send(Array.from({ length: messages }, (_, i) => ({ jobId: `job_${i}`, attempt: 0 })));
  return { db, queue };
}

/** Runs a poller whose jobs finish their handler at once (when `early`) and then hold their outcome until released. */
async function observe(concurrency: number, early: boolean) {
  const { db, queue } = await withQueue(20);
  let inFlight = 0;
  let handlersRunning = 0;
  let maxInFlight = 0;
  let maxHandlers = 0;
  const held: (() => void)[] = [];
  const poller = startPoller({
    queue,
    concurrency,
    visibilityTimeoutSeconds: 30,
    waitTimeSeconds: 0.05,
    logger: silentLogger,
    process: async (delivery, handlerDone) => {
      inFlight += 1;
      handlersRunning += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      maxHandlers = Math.max(maxHandlers, handlersRunning);
      if (early) {
        handlersRunning -= 1;
        handlerDone();
      }
      await new Promise<void>((resolve) => held.push(resolve));
      if (!early) handlersRunning -= 1;
      inFlight -= 1;
      await queue.ack(delivery);
    },
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const seenBeforeRelease = { maxInFlight, maxHandlers, tracked: poller.inFlight };
  await poller.stopReceiving();
  for (const release of held.splice(0)) release();
  expect(await poller.waitForIdle(2000)).toBe(true);
  db.close();
  return seenBeforeRelease;
}

describe('poller slots', () => {
  it('frees a slot when the handler is done, while its outcome still commits, up to twice the concurrency', async () => {
    expect(await observe(2, true)).toEqual({ maxInFlight: 4, maxHandlers: 1, tracked: 4 });
  });

  it('keeps the slot until processing ends when the handler never reports done', async () => {
    expect(await observe(2, false)).toEqual({ maxInFlight: 2, maxHandlers: 2, tracked: 2 });
  });
});
