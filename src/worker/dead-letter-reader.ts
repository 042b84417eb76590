import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';

/**
 * Reads the dead-letter queue: a wake-up lands there after maxReceiveCount receives without
 * an ack (workers kept dying on it). The job is failed with the reason, so it never loops.
 */
export function startDeadLetterReader(options: { deadLetters: JobQueue; store: JobStore; logger: Logger; waitTimeSeconds?: number }) {
  const stopping = new AbortController();
  const loop = async () => {
    while (!stopping.signal.aborted) {
      try {
        const deliveries = await options.deadLetters.receive({
          maxMessages: 10,
          visibilityTimeoutSeconds: 30,
          waitTimeSeconds: options.waitTimeSeconds ?? 20,
          signal: stopping.signal,
        });
        for (const delivery of deliveries) {
          const abandoned = await options.store.abandonJob(delivery.jobId, {
            code: 'dead_lettered',
            message: `its wake-up was received ${delivery.receiveCount} times without completing (moved to the dead-letter queue)`,
          });
          if (abandoned) options.logger.warn('job failed from the dead-letter queue', { jobId: delivery.jobId });
          await options.deadLetters.ack(delivery);
        }
      } catch (error) {
        options.logger.warn('dead-letter pass failed', { error: error instanceof Error ? error.message : String(error) });
        await sleep(5000, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  };
  const done = loop();
  return {
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
