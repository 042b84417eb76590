import type { Job, WakeUp } from '../core/job.js';
import type { ClaimOptions } from './job-store.js';

/** One received message. `handle` is adapter-private (e.g. an SQS receipt handle). */
export interface Delivery extends WakeUp {
  readonly deliveryId: string;
  readonly receiveCount: number;
  readonly handle: unknown;
  /**
   * Set only by queues that share the store's database, when asked to claim (ReceiveOptions.claim):
   * the job claimed in the receive's own transaction, or null when it was not claimable.
   * Undefined means not claimed: the caller claims through the store.
   */
  readonly claimed?: Job | null;
}

export interface ReceiveOptions {
  maxMessages: number;
  visibilityTimeoutSeconds: number;
  /** Long poll: resolve early when messages arrive, or empty after this long. */
  waitTimeSeconds: number;
  signal?: AbortSignal;
  /**
   * Claim each received job in the same transaction (Delivery.claimed). Only queues that share
   * the store's database can; others ignore it.
   */
  claim?: ClaimOptions;
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
  /**
   * True when this queue's writes commit in the same transactions as the store's (one database):
   * an ack issued together with a completion then commits with it, or not at all.
   */
  readonly commitsWithStore?: boolean;
  /**
   * True when receive({ claim }) claims due jobs, and jobs whose lease expired, straight from the
   * store (one database whose jobs table is the queue): no wake-up has to reach a worker, so the
   * reconciler, which re-sends lost ones, has nothing to do.
   */
  readonly claimsFromStore?: boolean;
}
