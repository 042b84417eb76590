import { describe, expect, it } from 'vitest';
import { systemClock } from '../core/clock.js';
import { StoreUnavailableError } from '../core/errors.js';
import { silentLogger } from '../core/logger.js';
import { createRegistry } from '../core/registry.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';
import type { LambdaDeps, SqsEvent } from './lambda-runtime.js';
import { createSqsBatchHandler, toBatchItemFailures } from './lambda-runtime.js';

const record = (messageId: string, body: string) => ({ messageId, receiptHandle: `rh-${messageId}`, body, attributes: { ApproximateReceiveCount: '1' } });

describe('toBatchItemFailures', () => {
  it('lists exactly the failed ids that are in the event, never empty or unknown ones', () => {
    const event: SqsEvent = { Records: [record('a', '{}'), record('b', '{}'), record('', '{}')] };
    expect(toBatchItemFailures(event, new Set(['b', 'zzz', '']))).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(toBatchItemFailures(event, new Set())).toEqual({ batchItemFailures: [] });
  });
});

describe('createSqsBatchHandler', () => {
  // Store faults on demand: one job's claim fails (store outage), another was already finished.
  const store = {
    claimJob: async (id: string) => {
      if (id === 'job_outage') throw new StoreUnavailableError('injected outage');
      return null;
    },
  } as unknown as JobStore;
  const released: string[] = [];
  const queue = {
    send: async () => {},
    ack: async () => {},
    release: async (d: { deliveryId: string }) => void released.push(d.deliveryId),
    extendVisibility: async () => {},
  } as unknown as JobQueue;
  const deps: LambdaDeps = {
    store,
    queue,
    artifacts: {} as never,
    executor: {} as never,
    registry: createRegistry([]),
    clock: systemClock,
    logger: silentLogger,
    workerId: 'lambda-test',
    leaseMs: 1000,
    heartbeatMs: 100,
  };

  it('fails only the records that could not be judged; malformed and finished ones succeed', async () => {
    const handler = createSqsBatchHandler(async () => deps);
    const event: SqsEvent = {
      Records: [
        record('m1', JSON.stringify({ jobId: 'job_done', attempt: 0 })),
        record('m2', JSON.stringify({ jobId: 'job_outage', attempt: 0 })),
        record('m3', 'not json'),
      ],
    };
    expect(await handler(event, { getRemainingTimeInMillis: () => 60_000 })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
  });

  it('hands every record back when the deadline is already too close to start', async () => {
    released.length = 0;
    const handler = createSqsBatchHandler(async () => deps, { safetyMarginMs: 5000 });
    const event: SqsEvent = { Records: [record('n1', JSON.stringify({ jobId: 'job_done', attempt: 0 }))] };
    expect(await handler(event, { getRemainingTimeInMillis: () => 1000 })).toEqual({ batchItemFailures: [{ itemIdentifier: 'n1' }] });
    expect(released).toEqual(['n1']);
  });

  it('throws (whole batch) only when its dependencies cannot be built', async () => {
    const handler = createSqsBatchHandler(async () => {
      throw new Error('no configuration');
    });
    await expect(handler({ Records: [record('x', '{}')] }, { getRemainingTimeInMillis: () => 60_000 })).rejects.toThrow('no configuration');
  });
});
