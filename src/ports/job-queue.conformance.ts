import { describe, expect, it } from 'vitest';
import type { JobQueue } from './job-queue.js';

/**
 * Behaviour every JobQueue adapter must have, against real time with short visibility
 * timeouts (queues such as SQS have no controllable clock).
 */
export function runJobQueueConformance(name: string, createQueue: () => Promise<{ queue: JobQueue; close(): Promise<void> }>): void {
  const withQueue = (fn: (queue: JobQueue) => Promise<void>) => async () => {
    const h = await createQueue();
    try {
      await fn(h.queue);
    } finally {
      await h.close();
    }
  };
  const receive = (queue: JobQueue, waitTimeSeconds = 0, maxMessages = 10) =>
    queue.receive({ maxMessages, visibilityTimeoutSeconds: 1, waitTimeSeconds });

  describe(`JobQueue conformance: ${name}`, () => {
    it('delivers a sent wake-up and hides it while it is being handled', withQueue(async (queue) => {
      await queue.send([{ jobId: 'job_a', attempt: 0 }]);
      const [delivery, ...rest] = await receive(queue, 1);
      expect(rest).toEqual([]);
      expect(delivery).toMatchObject({ jobId: 'job_a', attempt: 0, receiveCount: 1 });
      expect(await receive(queue)).toEqual([]);
    }));

    it('redelivers after the visibility timeout, and ack removes for good', withQueue(async (queue) => {
      await queue.send([{ jobId: 'job_b', attempt: 0 }]);
      await receive(queue, 1);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const [again] = await receive(queue, 1);
      expect(again).toMatchObject({ jobId: 'job_b', receiveCount: 2 });
      await queue.ack(again as never);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(await receive(queue)).toEqual([]);
    }));

    it('extends visibility on heartbeat and releases at once on hand-back', withQueue(async (queue) => {
      await queue.send([{ jobId: 'job_c', attempt: 0 }]);
      const [delivery] = await receive(queue, 1);
      await queue.extendVisibility(delivery as never, 3);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      expect(await receive(queue)).toEqual([]);
      await queue.release(delivery as never);
      expect(await receive(queue, 1)).toMatchObject([{ jobId: 'job_c' }]);
    }));

    it('honours delaySeconds', withQueue(async (queue) => {
      await queue.send([{ jobId: 'job_d', attempt: 2 }], { delaySeconds: 1 });
      expect(await receive(queue)).toEqual([]);
      expect(await receive(queue, 3)).toMatchObject([{ jobId: 'job_d', attempt: 2 }]);
    }));

    it('returns no more than maxMessages and every message exactly once per visibility period', withQueue(async (queue) => {
      await queue.send(Array.from({ length: 10 }, (_, i) => ({ jobId: `job_${i}`, attempt: 0 })));
      const first = await receive(queue, 1, 4);
      expect(first).toHaveLength(4);
      const rest = [...(await receive(queue, 1, 10)), ...(await receive(queue, 0, 10))];
      const ids = [...first, ...rest].map((d) => d.jobId).sort();
      expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `job_${i}`).sort());
    }));

    it('wakes a waiting long poll when a message arrives, and stops waiting on abort', withQueue(async (queue) => {
      const waiting = receive(queue, 10);
      setTimeout(() => void queue.send([{ jobId: 'job_e', attempt: 0 }]), 200);
      expect(await waiting).toMatchObject([{ jobId: 'job_e' }]);
      const controller = new AbortController();
      const aborted = queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 1, waitTimeSeconds: 20, signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      expect(await aborted.catch(() => [])).toEqual([]);
      expect(Date.now() - started).toBeLessThan(5000);
    }));
  });
}
