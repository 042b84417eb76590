import { parseWakeUp } from '../core/wake-up.js';
import type { Logger } from '../core/logger.js';
import type { Delivery, JobQueue } from '../ports/job-queue.js';
import type { ProcessJobDeps } from './process-job.js';
import { processJob } from './process-job.js';

/** The parts of an SQS event that the handler reads (aws-lambda's SQSEvent is a superset). */
export interface SqsEventRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
}
export interface SqsEvent {
  Records: SqsEventRecord[];
}
export interface LambdaContext {
  getRemainingTimeInMillis(): number;
}
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

export type LambdaDeps = Omit<ProcessJobDeps, 'shutdown' | 'leaseMs'> & { leaseMs: number };

export interface SqsBatchHandlerOptions {
  /** Stop starting work and hand back what is still running this long before the deadline. @default 5000 */
  safetyMarginMs?: number;
}

/**
 * The SQS partial-batch response: exactly the message ids that failed, and only ids that
 * are in this event (an unknown or empty id would make Lambda fail the whole batch).
 */
export function toBatchItemFailures(event: SqsEvent, failedIds: ReadonlySet<string>): SqsBatchResponse {
  return {
    batchItemFailures: event.Records.filter((r) => r.messageId && failedIds.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })),
  };
}

/**
 * The event source mapping deletes the messages of successful records itself, so an ack here
 * only marks success; a hand-back makes the message visible again at once and reports failure.
 */
function eventSourceQueue(queue: JobQueue, failed: Set<string>): JobQueue {
  return {
    send: (messages, options) => queue.send(messages, options),
    receive: () => Promise.reject(new Error('the Lambda runtime does not receive; the event source mapping does')),
    ack: async () => {},
    extendVisibility: (delivery, seconds) => queue.extendVisibility(delivery, seconds),
    async release(delivery) {
      failed.add(delivery.deliveryId);
      await queue.release(delivery).catch(() => {});
    },
    close: async () => {},
  };
}

/**
 * An AWS Lambda handler for SQS events (ReportBatchItemFailures) that runs every record through
 * the same processJob pipeline as the container runtime. It watches the remaining time: work
 * that cannot finish before the deadline is handed back (lease released, message visible again,
 * reported as failed) instead of being killed by the timeout.
 */
export function createSqsBatchHandler(getDeps: () => Promise<LambdaDeps>, options: SqsBatchHandlerOptions = {}) {
  const safetyMarginMs = options.safetyMarginMs ?? 5000;
  return async (event: SqsEvent, context: LambdaContext): Promise<SqsBatchResponse> => {
    // Without dependencies nothing can be judged: throwing fails the whole batch, which SQS redelivers.
    const deps = await getDeps();
    const remainingMs = context.getRemainingTimeInMillis();
    const shutdown = new AbortController();
    const budgetMs = remainingMs - safetyMarginMs;
    if (budgetMs <= 0) shutdown.abort();
    const deadline = setTimeout(() => shutdown.abort(), Math.max(0, budgetMs));
    const failed = new Set<string>();
    const queue = eventSourceQueue(deps.queue, failed);
    // The lease outlives the invocation, so a handler that blocks the event loop cannot lose it mid-run.
    const leaseMs = Math.max(deps.leaseMs, remainingMs + 30_000);
    try {
      await Promise.all(
        event.Records.map(async (record) => {
          const wakeUp = parseWakeUp(record.body);
          if (!wakeUp) {
            deps.logger.warn('dropping a malformed SQS record', { messageId: record.messageId });
            return;
          }
          const delivery: Delivery = {
            ...wakeUp,
            deliveryId: record.messageId,
            receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
            handle: record.receiptHandle,
          };
          if (shutdown.signal.aborted) {
            await queue.release(delivery);
            return;
          }
          try {
            await processJob(delivery, { ...deps, queue, leaseMs, shutdown: shutdown.signal });
          } catch (error) {
            logFailure(deps.logger, record, error);
            failed.add(record.messageId);
          }
        }),
      );
    } finally {
      clearTimeout(deadline);
    }
    return toBatchItemFailures(event, failed);
  };
}

function logFailure(logger: Logger, record: SqsEventRecord, error: unknown) {
  logger.error('record failed; SQS will redeliver it', {
    messageId: record.messageId,
    error: error instanceof Error ? error.message : String(error),
  });
}
