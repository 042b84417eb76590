import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/logger.js';
import type { Delivery, JobQueue } from '../ports/job-queue.js';
import type { ClaimOptions } from '../ports/job-store.js';

export interface PollerOptions {
  queue: JobQueue;
  concurrency: number;
  visibilityTimeoutSeconds: number;
  /** Long-poll wait per receive call. @default 1 */
  waitTimeSeconds?: number;
  /**
   * Handles one delivery. Call `handlerDone` when the handler has finished: its slot is free
   * then, while the completion and ack still commit (bounded: at most 2 × concurrency in flight).
   */
  process(delivery: Delivery, handlerDone: () => void): Promise<unknown>;
  /** Ask queues that share the store's database to claim in the receive (see ReceiveOptions.claim). */
  claim?: ClaimOptions;
  logger: Logger;
}

export interface Poller {
  readonly inFlight: number;
  /** Stop receiving at once; resolves when the receive loop has exited. */
  stopReceiving(): Promise<void>;
  /** Resolves when every job in flight has finished, or after `timeoutMs` (false then). */
  waitForIdle(timeoutMs: number): Promise<boolean>;
}

/** Largest receive asked for; queues with a lower limit (SQS: 10) clamp it themselves. */
const maxBatch = 100;

/**
 * The container runtime's message source: keeps up to `concurrency` handlers running, receiving
 * only as many messages as there are free slots so nothing sits invisible in a local buffer.
 */
export function startPoller(options: PollerOptions): Poller {
  const stopping = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  let running = 0;
  let slotFreed: (() => void) | undefined;

  const track = (delivery: Delivery) => {
    running += 1;
    let handlerDone = false;
    const freeSlot = () => {
      if (handlerDone) return;
      handlerDone = true;
      running -= 1;
      slotFreed?.();
    };
    const run = options
      .process(delivery, freeSlot)
      .catch((error: unknown) => {
        options.logger.error('processing failed; the message will be redelivered', {
          jobId: delivery.jobId,
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        inFlight.delete(run);
        freeSlot();
        slotFreed?.();
      });
    inFlight.add(run);
  };

  const loop = async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      // Slots are handlers running; jobs still committing their outcome count against a second, equal budget.
      const free = Math.min(options.concurrency - running, 2 * options.concurrency - inFlight.size);
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            stopping.signal.removeEventListener('abort', wake);
            slotFreed = undefined;
            resolve();
          };
          slotFreed = wake;
          stopping.signal.addEventListener('abort', wake, { once: true });
        });
        continue;
      }
      let deliveries: Delivery[];
      try {
        deliveries = await options.queue.receive({
          maxMessages: Math.min(free, maxBatch),
          visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
          waitTimeSeconds: options.waitTimeSeconds ?? 1,
          signal: stopping.signal,
          ...(options.claim ? { claim: options.claim } : {}),
        });
        failures = 0;
      } catch (error) {
        failures += 1;
        const delayMs = Math.min(10_000, 200 * 2 ** failures);
        options.logger.warn('receive failed; backing off', { delayMs, error: error instanceof Error ? error.message : String(error) });
        await sleep(delayMs, undefined, { signal: stopping.signal }).catch(() => {});
        continue;
      }
      for (const delivery of deliveries) {
        // A delivery claimed with the receive is this worker's job already: processJob hands it back if stopping.
        if (stopping.signal.aborted && delivery.claimed === undefined) await options.queue.release(delivery).catch(() => {});
        else track(delivery);
      }
    }
  };
  const done = loop();

  return {
    get inFlight() {
      return inFlight.size;
    },
    async stopReceiving() {
      stopping.abort();
      await done;
    },
    async waitForIdle(timeoutMs) {
      if (inFlight.size === 0) return true;
      const all = Promise.all([...inFlight]).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs));
      });
      const idle = await Promise.race([all, timeout]);
      clearTimeout(timer);
      return idle;
    },
  };
}
