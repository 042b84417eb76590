import { StoreUnavailableError } from '../../src/core/errors.js';
import type { JobQueue } from '../../src/ports/job-queue.js';
import type { JobStore } from '../../src/ports/job-store.js';

/** Deterministic randomness so a failing run can be replayed with the same seed. */
export function seeded(seed: number) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

export interface FaultCounts {
  duplicateDeliveries: number;
  redeliveriesAfterDelete: number;
  ambiguousSends: number;
  lostSends: number;
  timeoutsAfterCommit: number;
}

export const newCounts = (): FaultCounts => ({
  duplicateDeliveries: 0,
  redeliveriesAfterDelete: 0,
  ambiguousSends: 0,
  lostSends: 0,
  timeoutsAfterCommit: 0,
});

/**
 * Faults real queues produce only rarely and never on demand, around a real adapter:
 * duplicate delivery, redelivery of a message after it was deleted, and a SendMessage whose
 * outcome is unknown (sent but reported failed, or not sent at all).
 */
export function withQueueFaults(queue: JobQueue, random: () => number, rate: number, counts: FaultCounts): JobQueue {
  return {
    ...queue,
    async send(messages, options) {
      const roll = random();
      if (roll < rate / 2) {
        counts.lostSends += 1;
        throw new Error('injected: SendMessage timed out (not sent)');
      }
      await queue.send(messages, options);
      if (roll < rate) {
        counts.ambiguousSends += 1;
        throw new Error('injected: SendMessage timed out (sent)');
      }
      if (random() < rate) {
        counts.duplicateDeliveries += 1;
        await queue.send(messages, options);
      }
    },
    async ack(delivery) {
      await queue.ack(delivery);
      if (random() < rate) {
        counts.redeliveriesAfterDelete += 1;
        await queue.send([{ jobId: delivery.jobId, attempt: delivery.attempt }]);
      }
    },
  };
}

const writes = ['createJob', 'claimJob', 'renewLease', 'completeJob', 'failJob', 'releaseJob', 'markCancelled', 'takeDue'] as const;

/** A store whose writes sometimes commit and then report a timeout, as a network partition does. */
export function withStoreFaults(store: JobStore, random: () => number, rate: number, counts: FaultCounts): JobStore {
  const wrapped: JobStore = { ...store };
  for (const name of writes) {
    const original = store[name].bind(store) as (...args: unknown[]) => Promise<unknown>;
    (wrapped as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      const result = await original(...args);
      if (random() < rate) {
        counts.timeoutsAfterCommit += 1;
        throw new StoreUnavailableError(`injected: ${name} timed out after commit`);
      }
      return result;
    };
  }
  return wrapped;
}
