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
    process: async (delivery, slot) => {
      inFlight += 1;
      handlersRunning += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      maxHandlers = Math.max(maxHandlers, handlersRunning);
      if (early) {
        handlersRunning -= 1;
        slot.done();
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

describe('poller receives', () => {
  it('asks for every slot its short handlers freed in one receive, not a small one for the prefetch in between', async () => {
    const { db, queue } = await withQueue(100);
    const asked: number[] = [];
    let processed = 0;
    const poller = startPoller({
      queue: {
        ...queue,
        receive: (options) => {
          asked.push(options.maxMessages);
          return queue.receive(options);
        },
      },
      concurrency: 10,
      prefetch: 2,
      visibilityTimeoutSeconds: 30,
      waitTimeSeconds: 0.05,
      logger: silentLogger,
      process: async (delivery, slot) => {
        if (!(await slot.start())) return;
        // An instant handler still takes a few promise hops through the pipeline before it is done.
        for (let hop = 0; hop < 5; hop++) await null;
        slot.done();
        await queue.ack(delivery);
        processed += 1;
      },
    });
    while (processed < 100) await new Promise((resolve) => setTimeout(resolve, 10));
    await poller.stopReceiving();
    expect(await poller.waitForIdle(2000)).toBe(true);
    db.close();
    // 100 jobs, 10 slots + 2 prefetched once handlers have proven short: every receive asks for
    // at least the 10 slots the last batch freed (not 10, 2, 10, 2...: each small one costs a commit).
    expect(asked.slice(0, 8).every((n) => n >= 10)).toBe(true);
    expect(asked.length).toBeLessThanOrEqual(12);
  });
});

/**
 * A poller over 20 messages. Handler n (from 0) takes `handlerMs(n)` ms, or waits for the test
 * when that is undefined; by default the first is instant (prefetch needs a short handler seen
 * first) and the rest wait.
 */
async function prefetching(options: {
  concurrency: number;
  prefetch: number;
  holdMs?: number;
  maxHandlerMs?: number;
  handlerMs?: (n: number) => number | undefined;
}) {
  const { db, queue } = await withQueue(20);
  const handlerMs = options.handlerMs ?? ((n: number) => (n === 0 ? 0 : undefined));
  const seen = { held: 0, maxHeld: 0, running: 0, maxRunning: 0, started: 0, handedBack: 0, heldLater: [] as number[] };
  const release: (() => void)[] = [];
  const poller = startPoller({
    queue,
    concurrency: options.concurrency,
    prefetch: options.prefetch,
    prefetchHoldMs: options.holdMs ?? 10_000,
    prefetchMaxHandlerMs: options.maxHandlerMs ?? 50,
    visibilityTimeoutSeconds: 30,
    waitTimeSeconds: 0.05,
    logger: silentLogger,
    process: async (delivery, slot) => {
      seen.held += 1;
      seen.maxHeld = Math.max(seen.maxHeld, seen.held);
      if (seen.started >= 6) seen.heldLater.push(seen.held);
      try {
        if (!(await slot.start())) {
          seen.handedBack += 1;
          return;
        }
        const ms = handlerMs(seen.started);
        seen.started += 1;
        seen.running += 1;
        seen.maxRunning = Math.max(seen.maxRunning, seen.running);
        await (ms !== undefined ? new Promise((resolve) => setTimeout(resolve, ms)) : new Promise<void>((resolve) => release.push(resolve)));
        seen.running -= 1;
        slot.done();
      } finally {
        seen.held -= 1;
        await queue.ack(delivery);
      }
    },
  });
  const stop = async () => {
    await poller.stopReceiving();
    for (const r of release.splice(0)) r();
    expect(await poller.waitForIdle(2000)).toBe(true);
    db.close();
  };
  return { seen, release, poller, stop };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('poller prefetch', () => {
  it('claims up to `prefetch` jobs ahead but runs at most `concurrency` handlers; a waiting job starts as one ends', async () => {
    const p = await prefetching({ concurrency: 2, prefetch: 3 });
    await sleep(200);
    expect(p.seen).toMatchObject({ held: 5, maxHeld: 5, running: 2, maxRunning: 2, started: 3 });
    p.release.shift()?.();
    await sleep(20);
    expect(p.seen).toMatchObject({ running: 2, maxRunning: 2, started: 4 });
    await p.stop();
  });

  it('claims nothing ahead before a handler has finished, nor without prefetch', async () => {
    const blocked = await prefetching({ concurrency: 2, prefetch: 3, handlerMs: () => undefined });
    const off = await prefetching({ concurrency: 2, prefetch: 0 });
    await sleep(200);
    expect(blocked.seen).toMatchObject({ held: 2, maxHeld: 2, running: 2, started: 2 });
    expect(off.seen).toMatchObject({ held: 2, maxHeld: 2, running: 2, started: 3 });
    await blocked.stop();
    await off.stop();
  });

  it('hands a prefetched job back when it waited longer than prefetchHoldMs', async () => {
    const p = await prefetching({ concurrency: 1, prefetch: 1, holdMs: 100 });
    await sleep(300);
    expect(p.seen.started).toBe(2);
    expect(p.seen.handedBack).toBeGreaterThanOrEqual(1);
    await p.stop();
  });

  it('stops claiming ahead once handlers average longer than prefetchMaxHandlerMs', async () => {
    // Three instant handlers, then 60 ms each: the average passes 20 ms after a few.
    const p = await prefetching({ concurrency: 1, prefetch: 4, maxHandlerMs: 20, handlerMs: (n) => (n < 3 ? 0 : 60) });
    await sleep(1000);
    expect(p.seen.started).toBeGreaterThan(8);
    // Early on, while the average was short, jobs were claimed ahead...
    expect(p.seen.maxHeld).toBeGreaterThan(1);
    // ...but the later receives came one free slot at a time.
    expect(p.seen.heldLater.slice(-3)).toEqual([1, 1, 1]);
    await p.stop();
  });

  it('hands back every prefetched job at once when it stops receiving', async () => {
    const p = await prefetching({ concurrency: 1, prefetch: 3 });
    await sleep(200);
    expect(p.seen).toMatchObject({ held: 4, started: 2 });
    await p.poller.stopReceiving();
    await sleep(20);
    expect(p.seen).toMatchObject({ handedBack: 3, started: 2 });
    await p.stop();
  });
});
