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
   * Handles one delivery: await `slot.start()` before running the handler (false: hand the job
   * back unstarted), and call `slot.done()` when the handler has finished — its slot is free then,
   * while the completion and ack still commit.
   */
  process(delivery: Delivery, slot: HandlerSlot): Promise<unknown>;
  /**
   * Jobs claimed ahead of a free slot, so the next handler starts the moment one ends and their
   * claims share a commit with the completions before them. Only once handlers have proven short
   * (see prefetchMaxHandlerMs); a job held longer than `prefetchHoldMs` is handed back.
   * @default 0
   */
  prefetch?: number;
  /** Prefetch only while the recent average handler time is at most this. @default 50 */
  prefetchMaxHandlerMs?: number;
  /** How long a prefetched job may wait for a slot before it is handed back. @default 1000 */
  prefetchHoldMs?: number;
  /** Ask queues that share the store's database to claim in the receive (see ReceiveOptions.claim). */
  claim?: ClaimOptions;
  logger: Logger;
}

export interface HandlerSlot {
  /** Resolves true when the handler may run; false when the job must be handed back unstarted. */
  start(): Promise<boolean>;
  /** The handler has finished. */
  done(): void;
}

export interface Poller {
  readonly inFlight: number;
  /** Stop receiving at once; resolves when the receive loop has exited. */
  stopReceiving(): Promise<void>;
  /** Resolves when every job in flight has finished, or after `timeoutMs` (false then). */
  waitForIdle(timeoutMs: number): Promise<boolean>;
}

/**
 * The most deliveries a poller holds at once: handlers running, prefetched ones waiting, and as
 * many again committing their outcome. Each listens for the worker's shutdown signal.
 */
export const maxInFlight = (concurrency: number, prefetch: number) => 2 * concurrency + prefetch;

/** Largest receive asked for; queues with a lower limit (SQS: 10) clamp it themselves. */
const maxBatch = 100;

/**
 * The container runtime's message source: keeps up to `concurrency` handlers running, receiving
 * only as many messages as there are free slots (plus `prefetch` while handlers are short), so
 * nothing sits invisible in a local buffer for long.
 */
export function startPoller(options: PollerOptions): Poller {
  const stopping = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const { concurrency } = options;
  const prefetch = options.prefetch ?? 0;
  const prefetchMaxHandlerMs = options.prefetchMaxHandlerMs ?? 50;
  const prefetchHoldMs = options.prefetchHoldMs ?? 1000;
  /** Deliveries whose handler has not finished (waiting for a slot, or running). */
  let holding = 0;
  /** Handlers running. */
  let running = 0;
  /** Recent average handler time (exponentially weighted), ms; unknown until a handler has finished. */
  let handlerMs = Number.POSITIVE_INFINITY;
  const waiters: ((start: boolean) => void)[] = [];
  let slotFreed: (() => void) | undefined;
  const depth = () => (prefetch > 0 && handlerMs <= prefetchMaxHandlerMs ? prefetch : 0);

  const nextWaiter = () => {
    while (running < concurrency && waiters.length > 0) {
      running += 1;
      waiters.shift()?.(true);
    }
  };
  stopping.signal.addEventListener('abort', () => {
    for (const waiter of waiters.splice(0)) waiter(false);
  });

  const track = (delivery: Delivery) => {
    holding += 1;
    let startedAt = 0;
    let finished = false;
    const slot: HandlerSlot = {
      start: () =>
        new Promise<boolean>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          const begin = (start: boolean) => {
            clearTimeout(timer);
            if (start) startedAt = performance.now();
            resolve(start);
          };
          if (stopping.signal.aborted) return begin(false);
          if (running < concurrency && waiters.length === 0) {
            running += 1;
            return begin(true);
          }
          waiters.push(begin);
          timer = setTimeout(() => {
            const at = waiters.indexOf(begin);
            if (at >= 0) waiters.splice(at, 1);
            begin(false);
          }, prefetchHoldMs);
        }),
      done: () => {
        if (finished) return;
        finished = true;
        holding -= 1;
        if (startedAt > 0) {
          running -= 1;
          const ms = performance.now() - startedAt;
          handlerMs = Number.isFinite(handlerMs) ? 0.8 * handlerMs + 0.2 * ms : ms;
          nextWaiter();
        }
        slotFreed?.();
      },
    };
    const run = options
      .process(delivery, slot)
      .catch((error: unknown) => {
        options.logger.error('processing failed; the message will be redelivered', {
          jobId: delivery.jobId,
          error: error instanceof Error ? error.message : String(error),
        });
      })
      .finally(() => {
        inFlight.delete(run);
        slot.done();
        slotFreed?.();
      });
    inFlight.add(run);
  };

  const loop = async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      // Slots are handlers running or waiting to (prefetched); jobs still committing their outcome
      // count against a second, equal budget.
      const ahead = depth();
      const free = Math.min(concurrency + ahead - holding, maxInFlight(concurrency, ahead) - inFlight.size);
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
      // Let the handlers just started run their first turn before counting free slots: short
      // handlers are done by then, and the next receive asks for their slots too (one receive,
      // and one commit with their completions, instead of a small one in between).
      if (deliveries.length > 0) await new Promise((resolve) => setImmediate(resolve));
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
