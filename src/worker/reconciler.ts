import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';

export interface ReconcilerOptions {
  store: JobStore;
  queue: JobQueue;
  intervalMs: number;
  /** A queued job whose wake-up is older than this gets another one. */
  wakeIdleMs: number;
  /** @default 500 */
  batchSize?: number;
  logger: Logger;
}

/**
 * The store is the truth, the queue only wakes workers: this loop re-sends wake-ups for jobs
 * that are due but were not woken recently (lost message, crash between commit and send) and for
 * running jobs whose lease expired (their worker died). Safe to run in every process at once.
 */
export function startReconciler(options: ReconcilerOptions): { stop(): Promise<void>; runOnce(): Promise<number> } {
  const stopping = new AbortController();
  const batchSize = options.batchSize ?? 500;

  const runOnce = async () => {
    const due = await options.store.takeDue({ limit: batchSize, wakeIdleMs: options.wakeIdleMs });
    for (let i = 0; i < due.length; i += 10) await options.queue.send(due.slice(i, i + 10));
    if (due.length > 0) options.logger.debug('reconciler re-woke jobs', { count: due.length });
    return due.length;
  };

  const loop = async () => {
    while (!stopping.signal.aborted) {
      try {
        await runOnce();
      } catch (error) {
        options.logger.warn('reconcile pass failed', { error: error instanceof Error ? error.message : String(error) });
      }
      await sleep(options.intervalMs, undefined, { signal: stopping.signal }).catch(() => {});
    }
  };
  const done = loop();
  return {
    runOnce,
    async stop() {
      stopping.abort();
      await done;
    },
  };
}
