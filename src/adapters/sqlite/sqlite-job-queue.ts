import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { WakeUp } from '../../core/job.js';
import type { Delivery, JobQueue, ReceiveOptions } from '../../ports/job-queue.js';
import type { ClaimOptions } from '../../ports/job-store.js';
import type { SqliteDatabase } from './database.js';
import { groupCommitFor } from './group-commit.js';
import { prepareSqliteClaim, prepareSqliteClaimDue } from './sqlite-job-store.js';
import type { QueueHandle, QueueRow } from '../sql-rows.js';
import { claimedDelivery, toDelivery } from '../sql-rows.js';
import { waitForEvent } from '../wait-for-event.js';

export interface SqliteJobQueueOptions {
  db: SqliteDatabase;
  clock?: Clock;
  /**
   * How often an idle long poll looks for messages sent by other processes. Sends from the
   * same process wake pollers at once.
   * @default 100
   */
  pollIntervalMs?: number;
  /**
   * The job store is the SQLite store on this same database handle. The jobs table is then the
   * queue: a queued job's row is its own wake-up, so send() writes nothing (it only wakes this
   * process's pollers), and receive must be asked to claim (ReceiveOptions.claim): it claims
   * due jobs, and jobs whose lease expired, straight from the table in its own commit. Messages
   * written before (by a version without this mode) are still received and claimed first.
   * @default false
   */
  sharesStore?: boolean;
}

/** Messages sent in this process wake this process's pollers without waiting for the poll interval. */
const localSends = new EventEmitter();
localSends.setMaxListeners(0);

/** The handle of a delivery claimed straight from the jobs table: the store's lease is its only state. */
const fromStore = Object.freeze({ fromStore: true });

/**
 * JobQueue on a table of the embedded database: visibility timeouts and receipts, like SQS. When
 * it shares the store's database (`sharesStore`), the jobs table itself is the queue.
 */
export function createSqliteJobQueue(options: SqliteJobQueueOptions): JobQueue {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const pollIntervalMs = options.pollIntervalMs ?? 100;
  const commit = groupCommitFor(db);
  const insert = db.prepare('INSERT INTO queue_messages (job_id, attempt, visible_at) VALUES (?, ?, ?)');
  const take = db.prepare(`UPDATE queue_messages SET visible_at = @until, receive_count = receive_count + 1, receipt = @receipt
    WHERE id IN (SELECT id FROM queue_messages WHERE visible_at <= @now ORDER BY visible_at, id LIMIT @max)
    RETURNING id, job_id, attempt, receive_count`);
  const remove = db.prepare('DELETE FROM queue_messages WHERE id = ? AND receipt = ?');
  const setVisibility = db.prepare('UPDATE queue_messages SET visible_at = ? WHERE id = ? AND receipt = ?');
  const sendMany = db.transaction((messages: readonly WakeUp[], visibleAt: number) => {
    for (const m of messages) insert.run(m.jobId, m.attempt, visibleAt);
  });

  const claim = options.sharesStore ? prepareSqliteClaim(db, clock) : null;
  const claimDue = claim ? prepareSqliteClaimDue(db, claim, clock) : null;

  const tryReceive = (max: number, visibilityMs: number, claimOptions: ClaimOptions | undefined): Delivery[] => {
    const now = clock.now();
    const receipt = randomUUID();
    const rows = take.all({ now, until: now + visibilityMs, receipt, max }) as QueueRow[];
    if (!claim || !claimDue || !claimOptions) return rows.map((row) => toDelivery(row, receipt));
    const deliveries: Delivery[] = rows.map((row) => ({ ...toDelivery(row, receipt), claimed: claim(row.job_id, claimOptions) }));
    if (deliveries.length < max) {
      for (const job of claimDue(max - deliveries.length, claimOptions)) deliveries.push(claimedDelivery(job, fromStore));
    }
    return deliveries;
  };
  const wakeLocalPollers = (delaySeconds = 0) => {
    if (delaySeconds > 0) setTimeout(() => localSends.emit('send'), delaySeconds * 1000).unref();
    else localSends.emit('send');
  };

  return {
    async send(messages, sendOptions) {
      if (messages.length === 0) return;
      const delaySeconds = sendOptions?.delaySeconds ?? 0;
      // The jobs' rows are their wake-ups: receives claim them from the table once due.
      if (!options.sharesStore) await commit(() => sendMany(messages, clock.now() + delaySeconds * 1000));
      wakeLocalPollers(delaySeconds);
    },

    async receive({ maxMessages, visibilityTimeoutSeconds, waitTimeSeconds, signal, claim: claimOptions }: ReceiveOptions) {
      if (options.sharesStore && !claimOptions) {
        throw new TypeError('receive: this SQLite queue shares the store, whose jobs table is the queue; pass { claim } to claim jobs from it');
      }
      const deadline = Date.now() + waitTimeSeconds * 1000;
      for (;;) {
        const deliveries = await commit(() => tryReceive(maxMessages, visibilityTimeoutSeconds * 1000, claimOptions));
        const remaining = deadline - Date.now();
        if (deliveries.length > 0 || remaining <= 0 || signal?.aborted) return deliveries;
        await waitForEvent(localSends, 'send', Math.min(pollIntervalMs, remaining), signal);
      }
    },

    // A delivery claimed from the jobs table has nothing to ack or extend: the store's completion
    // and lease renewals are its whole state.
    ack: (delivery) =>
      delivery.handle === fromStore
        ? Promise.resolve()
        : commit(() => {
            const { id, receipt } = delivery.handle as QueueHandle;
            remove.run(id, receipt);
          }),

    extendVisibility: (delivery, seconds) =>
      delivery.handle === fromStore
        ? Promise.resolve()
        : commit(() => {
            const { id, receipt } = delivery.handle as QueueHandle;
            setVisibility.run(clock.now() + seconds * 1000, id, receipt);
          }),

    async release(delivery) {
      if (delivery.handle !== fromStore) {
        const { id, receipt } = delivery.handle as QueueHandle;
        await commit(() => setVisibility.run(clock.now(), id, receipt));
      }
      wakeLocalPollers();
    },

    close: async () => {},
    commitsWithStore: options.sharesStore === true,
    claimsFromStore: options.sharesStore === true,
  };
}
