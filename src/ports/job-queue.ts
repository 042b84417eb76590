import type { WakeUp } from '../core/job.js';

/** One received message. `handle` is adapter-private (e.g. an SQS receipt handle). */
export interface Delivery extends WakeUp {
  readonly deliveryId: string;
  readonly receiveCount: number;
  readonly handle: unknown;
}

export interface ReceiveOptions {
  maxMessages: number;
  visibilityTimeoutSeconds: number;
  /** Long poll: resolve early when messages arrive, or empty after this long. */
  waitTimeSeconds: number;
  signal?: AbortSignal;
}

/** The wake-up channel. At-least-once: duplicates and redeliveries are expected by design. */
export interface JobQueue {
  /** `delaySeconds` may be fractional; adapters with whole-second delays round up. */
  send(messages: readonly WakeUp[], options?: { delaySeconds?: number }): Promise<void>;
  receive(options: ReceiveOptions): Promise<Delivery[]>;
  ack(delivery: Delivery): Promise<void>;
  extendVisibility(delivery: Delivery, visibilityTimeoutSeconds: number): Promise<void>;
  /** Make the message visible again at once (hand back). */
  release(delivery: Delivery): Promise<void>;
  close(): Promise<void>;
}
