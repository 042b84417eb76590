import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { formatWakeUp, parseWakeUp } from '../../core/wake-up.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import type { Delivery, JobQueue } from '../../ports/job-queue.js';
import { translateAwsError } from '../aws-errors.js';

export interface SqsJobQueueOptions {
  client: SQSClient;
  queueUrl: string;
  logger?: Logger;
}

/** SQS caps: 10 messages per batch call, 900 s of delay, 12 h of visibility, 20 s long poll. */
export const sqsLimits = { batch: 10, maxDelaySeconds: 900, maxVisibilitySeconds: 43_200, maxWaitSeconds: 20 } as const;

/** Benign on an at-least-once queue: the message was already deleted or redelivered elsewhere. */
const isStaleHandle = (error: unknown) =>
  /ReceiptHandleIsInvalid|MessageNotInflight|InvalidParameterValue/.test((error as { name?: string }).name ?? '');

/**
 * JobQueue on an SQS standard queue. Messages carry only `{ jobId, attempt }`. Delays beyond
 * 900 s are capped here; the store's runAt plus the reconciler wake the job when it is due.
 */
export function createSqsJobQueue(options: SqsJobQueueOptions): JobQueue {
  const { client, queueUrl } = options;
  const logger = options.logger ?? silentLogger;
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw translateAwsError(error);
    }
  };
  const handleOf = (delivery: Delivery) => delivery.handle as string;

  return {
    async send(messages, sendOptions) {
      const delaySeconds = Math.min(sqsLimits.maxDelaySeconds, Math.ceil(sendOptions?.delaySeconds ?? 0));
      for (let i = 0; i < messages.length; i += sqsLimits.batch) {
        let entries = messages.slice(i, i + sqsLimits.batch).map((m, n) => ({
          Id: String(n),
          MessageBody: formatWakeUp(m),
          ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
        }));
        for (let attempt = 1; entries.length > 0; attempt++) {
          const result = await call(() => client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries })));
          const failed = new Set((result.Failed ?? []).map((f) => f.Id));
          if (failed.size === 0) break;
          if (attempt >= 3) throw translateAwsError(new Error(`SQS refused ${failed.size} messages: ${result.Failed?.[0]?.Message}`));
          entries = entries.filter((e) => failed.has(e.Id));
        }
      }
    },

    async receive({ maxMessages, visibilityTimeoutSeconds, waitTimeSeconds, signal }) {
      let messages: Message[];
      try {
        const result = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.max(1, Math.min(sqsLimits.batch, maxMessages)),
            VisibilityTimeout: Math.min(sqsLimits.maxVisibilitySeconds, Math.ceil(visibilityTimeoutSeconds)),
            WaitTimeSeconds: Math.min(sqsLimits.maxWaitSeconds, Math.floor(waitTimeSeconds)),
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          signal ? { abortSignal: signal } : {},
        );
        messages = result.Messages ?? [];
      } catch (error) {
        if (signal?.aborted) return [];
        throw translateAwsError(error);
      }
      const deliveries: Delivery[] = [];
      for (const message of messages) {
        const wakeUp = parseWakeUp(message.Body);
        if (!wakeUp || !message.ReceiptHandle) {
          logger.warn('dropping a malformed queue message', { messageId: message.MessageId });
          if (message.ReceiptHandle) {
            await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle })).catch(() => {});
          }
          continue;
        }
        deliveries.push({
          ...wakeUp,
          deliveryId: message.MessageId ?? '',
          receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
          handle: message.ReceiptHandle,
        });
      }
      return deliveries;
    },

    async ack(delivery) {
      try {
        await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handleOf(delivery) }));
      } catch (error) {
        if (!isStaleHandle(error)) throw translateAwsError(error);
      }
    },

    async extendVisibility(delivery, seconds) {
      try {
        await client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: queueUrl,
            ReceiptHandle: handleOf(delivery),
            VisibilityTimeout: Math.min(sqsLimits.maxVisibilitySeconds, Math.ceil(seconds)),
          }),
        );
      } catch (error) {
        if (!isStaleHandle(error)) throw translateAwsError(error);
      }
    },

    async release(delivery) {
      try {
        await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handleOf(delivery), VisibilityTimeout: 0 }));
      } catch (error) {
        if (!isStaleHandle(error)) throw translateAwsError(error);
      }
    },

    close: async () => {},
  };
}
