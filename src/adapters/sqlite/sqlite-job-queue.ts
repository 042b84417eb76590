import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { WakeUp } from '../../core/job.js';
import type { Delivery, JobQueue, ReceiveOptions } from '../../ports/job-queue.js';
import type { ClaimOptions } from '../../ports/job-store.js';
import type { SqliteDatabase } from './database.js';
import { groupCommitFor } from './group-commit.js';
import { prepareSqliteClaim } from './sqlite-job-store.js';
import type { QueueHandle, QueueRow } from '../sql-rows.js';
import { toDelivery } from '../sql-rows.js';
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
   * The job store is the SQLite store on this same database handle: receives may claim their
   * jobs in the same commit (ReceiveOptions.claim) and acks commit with the store's writes.
   * @default false
   */
  sharesStore?: boolean;
}

/** Messages sent in this process wake this process's pollers without waiting for the poll interval. */
const localSends = new EventEmitter();
localSends.setMaxListeners(0);

/** JobQueue on a table of the embedded database: visibility timeouts and receipts, like SQS. */
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

  const tryReceive = (max: number, visibilityMs: number, claimOptions: ClaimOptions | undefined): Delivery[] => {
    const now = clock.now();
    const receipt = randomUUID();
    const rows = take.all({ now, until: now + visibilityMs, receipt, max }) as QueueRow[];
    if (!claim || !claimOptions) return rows.map((row) => toDelivery(row, receipt));
    return rows.map((row) => ({ ...toDelivery(row, receipt), claimed: claim(row.job_id, claimOptions) }));
  };

  return {
    async send(messages, sendOptions) {
      if (messages.length === 0) return;
      await commit(() => sendMany(messages, clock.now() + (sendOptions?.delaySeconds ?? 0) * 1000));
      if (!sendOptions?.delaySeconds) localSends.emit('send');
    },

    async receive({ maxMessages, visibilityTimeoutSeconds, waitTimeSeconds, signal, claim: claimOptions }: ReceiveOptions) {
      const deadline = Date.now() + waitTimeSeconds * 1000;
      for (;;) {
        const deliveries = await commit(() => tryReceive(maxMessages, visibilityTimeoutSeconds * 1000, claimOptions));
        const remaining = deadline - Date.now();
        if (deliveries.length > 0 || remaining <= 0 || signal?.aborted) return deliveries;
        await waitForEvent(localSends, 'send', Math.min(pollIntervalMs, remaining), signal);
      }
    },

    ack: (delivery) =>
      commit(() => {
        const { id, receipt } = delivery.handle as QueueHandle;
        remove.run(id, receipt);
      }),

    extendVisibility: (delivery, seconds) =>
      commit(() => {
        const { id, receipt } = delivery.handle as QueueHandle;
        setVisibility.run(clock.now() + seconds * 1000, id, receipt);
      }),

    async release(delivery) {
      const { id, receipt } = delivery.handle as QueueHandle;
      await commit(() => setVisibility.run(clock.now(), id, receipt));
      localSends.emit('send');
    },

    close: async () => {},
    commitsWithStore: options.sharesStore === true,
  };
}
