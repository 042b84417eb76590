import type { Logger } from '../core/logger.js';
import { formatWakeUp } from '../core/wake-up.js';
import type { Delivery, JobQueue } from '../ports/job-queue.js';
import type { LambdaContext, SqsBatchResponse, SqsEvent } from './lambda-runtime.js';

export interface LambdaEventSourceOptions {
  queue: JobQueue;
  handler(event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse>;
  /** Records per invocation (SQS event source: 1-10 without a window). */
  batchSize: number;
  /** How long to gather a batch before invoking. */
  batchWindowSeconds: number;
  /** Invocations at once (the mapping's maximum concurrency). */
  maxConcurrency: number;
  functionTimeoutSeconds: number;
  /** Visibility of received messages; AWS advises at least 6 × the function timeout. */
  visibilityTimeoutSeconds: number;
  logger: Logger;
}

/**
 * Runs a Lambda handler locally the way the SQS event source mapping does: batches of up to
 * batchSize gathered for up to batchWindowSeconds, at most maxConcurrency invocations, deletes
 * only the records the response did not list as failures; failed records reappear after the
 * visibility timeout, exactly as on AWS.
 */
export function startLambdaEventSource(options: LambdaEventSourceOptions) {
  const stopping = new AbortController();

  const gather = async (): Promise<Delivery[]> => {
    const batch = await options.queue.receive({
      maxMessages: options.batchSize,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      waitTimeSeconds: 1,
      signal: stopping.signal,
    });
    const windowEnds = Date.now() + options.batchWindowSeconds * 1000;
    while (batch.length > 0 && batch.length < options.batchSize && Date.now() < windowEnds && !stopping.signal.aborted) {
      const more = await options.queue.receive({
        maxMessages: options.batchSize - batch.length,
        visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
        waitTimeSeconds: Math.max(0, Math.min(1, (windowEnds - Date.now()) / 1000)),
        signal: stopping.signal,
      });
      batch.push(...more);
    }
    return batch;
  };

  const invoke = async (batch: Delivery[]) => {
    const event: SqsEvent = {
      Records: batch.map((d) => ({
        messageId: d.deliveryId,
        receiptHandle: String(d.handle),
        body: formatWakeUp(d),
        attributes: { ApproximateReceiveCount: String(d.receiveCount) },
      })),
    };
    const deadline = Date.now() + options.functionTimeoutSeconds * 1000;
    let failed: Set<string>;
    try {
      const response = await options.handler(event, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) });
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (error) {
      options.logger.error('invocation failed; the whole batch will be retried', { error: String(error) });
      return;
    }
    for (const delivery of batch) {
      if (!failed.has(delivery.deliveryId)) await options.queue.ack(delivery).catch(() => {});
    }
  };

  const slot = async () => {
    while (!stopping.signal.aborted) {
      try {
        const batch = await gather();
        if (batch.length > 0) await invoke(batch);
      } catch (error) {
        options.logger.warn('event source poll failed', { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  const slots = Array.from({ length: options.maxConcurrency }, slot);
  return {
    async stop() {
      stopping.abort();
      await Promise.all(slots);
    },
  };
}
