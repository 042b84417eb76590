import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import type { Clock } from '../../core/clock.js';
import type { Delivery, JobQueue, ReceiveOptions } from '../../ports/job-queue.js';
import type { PostgresDatabase } from './database.js';
import { translatePgError } from './database.js';
import { waitForEvent } from '../wait-for-event.js';
import type { QueueHandle, QueueRow } from '../sql-rows.js';
import { claimedDelivery, toDelivery } from '../sql-rows.js';
import type { PostgresClaimDue } from './postgres-job-store.js';
import { preparePostgresClaimDue } from './postgres-job-store.js';

export interface PostgresJobQueueOptions {
  db: PostgresDatabase;
  /** Fallback poll while idle (delayed messages, missed notifications). @default 500 */
  pollIntervalMs?: number;
  logger?: Logger;
  /**
   * The job store is the PostgreSQL store in this same schema. The jobs table is then the queue:
   * a queued job's row is its own wake-up, so send() writes nothing and only NOTIFYs idle
   * receivers (one NOTIFY for all the sends that arrive while one is on the wire), and receive
   * must be asked to claim (ReceiveOptions.claim): it claims due jobs, and jobs whose lease
   * expired, straight from the table in one statement; an idle receive sleeps until the next
   * queued job is due, at most the poll interval (which is also how expired leases are found).
   * Rows of the queue_messages table (written by a version without this mode) are left to that
   * version's workers.
   * @default false
   */
  sharesStore?: boolean;
  /** Overrides the database clock for the claims of `sharesStore` (tests). */
  clock?: Clock;
}

/** The handle of a delivery claimed straight from the jobs table: the store's lease is its only state. */
const fromStore = Object.freeze({ fromStore: true });

/**
 * JobQueue on a PostgreSQL table: receive takes rows with FOR UPDATE SKIP LOCKED so concurrent
 * workers never block each other, and LISTEN/NOTIFY wakes idle receivers the moment a message is
 * sent. When it shares the store's schema (`sharesStore`), the jobs table itself is the queue.
 */
export function createPostgresJobQueue(options: PostgresJobQueueOptions): JobQueue {
  const { db } = options;
  const logger = options.logger ?? silentLogger;
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  const table = db.table('queue_messages');
  const nowMs = `"${db.schema}".now_ms(NULL)`;
  const channel = `${db.schema}_wake`;
  const wakes = new EventEmitter();
  wakes.setMaxListeners(0);
  let listener: pg.PoolClient | undefined;
  let listening: Promise<void> | undefined;
  let closed = false;

  const listen = (): Promise<void> =>
    (listening ??= (async () => {
      try {
        listener = await db.pool.connect();
        listener.on('notification', () => wakes.emit('wake'));
        listener.on('error', (error) => {
          logger.warn('queue listener lost its connection; falling back to polling until it reconnects', { error: error.message });
          listener?.release(true);
          listener = undefined;
          listening = undefined;
        });
        await listener.query(`LISTEN "${channel}"`);
      } catch (error) {
        listener?.release(true);
        listener = undefined;
        listening = undefined;
        logger.debug('queue listener unavailable; polling', { error: String(error) });
      }
    })());

  const claimDue = options.sharesStore ? preparePostgresClaimDue(db, options.clock) : null;
  const jobs = db.table('jobs');

  const notify = async () => {
    try {
      await db.query('SELECT pg_notify($1, $2)', [channel, '']);
    } catch (error) {
      throw translatePgError(error);
    }
  };
  // Sends that arrive while a NOTIFY is on the wire share the next one: it leaves after theirs
  // were committed, so it wakes receivers for all of them (a NOTIFY is a commit of its own, and
  // PostgreSQL serializes those).
  let notifying: Promise<void> | null = null;
  let following: Promise<void> | null = null;
  const wake = (): Promise<void> => {
    if (!notifying) {
      notifying = notify().finally(() => {
        notifying = null;
      });
      return notifying;
    }
    following ??= notifying
      .catch(() => {})
      .then(() => {
        following = null;
        return wake();
      });
    return following;
  };

  /**
   * How long an idle receiver of the shared table may sleep: until the next delayed job is due,
   * at most the poll interval. A due job it could not claim is held by another claimer's
   * uncommitted claim (SKIP LOCKED): a few milliseconds' pause then, not a hot loop.
   */
  const idleWaitMs = async (remaining: number): Promise<number> => {
    const ceiling = Math.min(pollIntervalMs, remaining);
    const { rows } = await db.query<{ wait: number | null }>(
      `SELECT min(run_at) - "${db.schema}".now_ms($1::bigint) AS wait FROM ${jobs} WHERE status = 'queued'`,
      [options.clock ? options.clock.now() : null],
    );
    const wait = rows[0]?.wait;
    return wait === null || wait === undefined ? ceiling : Math.min(ceiling, Math.max(5, wait));
  };

  const receiveClaimed = async (
    claimFrom: PostgresClaimDue,
    { maxMessages, waitTimeSeconds, signal, claim }: ReceiveOptions & { claim: NonNullable<ReceiveOptions['claim']> },
  ) => {
    const deadline = Date.now() + waitTimeSeconds * 1000;
    for (;;) {
      const claimed = await claimFrom(maxMessages, claim);
      const remaining = deadline - Date.now();
      if (claimed.length > 0 || remaining <= 0 || signal?.aborted) return claimed.map((job) => claimedDelivery(job, fromStore));
      await waitForEvent(wakes, 'wake', await idleWaitMs(remaining), signal);
    }
  };

  const setVisibility = async (delivery: Delivery, visibleAtSql: string, values: unknown[]) => {
    const { id, receipt } = delivery.handle as QueueHandle;
    await db.query(`UPDATE ${table} SET visible_at = ${visibleAtSql} WHERE id = $1 AND receipt = $2`, [id, receipt, ...values]);
  };

  return {
    async send(messages, sendOptions) {
      if (messages.length === 0) return;
      if (options.sharesStore) {
        // The jobs' rows are their wake-ups; the NOTIFY makes idle receivers look now, and sleep
        // until the next due job (a delayed one included) when nothing is due yet. It is not part
        // of the store's transaction on purpose: commits that NOTIFY are serialized by PostgreSQL
        // (a global lock on the notification queue), which halved concurrent submits when tried.
        await wake();
        return;
      }
      const delayMs = Math.round((sendOptions?.delaySeconds ?? 0) * 1000);
      await db.query(
        `WITH ins AS (INSERT INTO ${table} (job_id, attempt, visible_at)
                      SELECT m.job_id, m.attempt, ${nowMs} + $3 FROM unnest($1::text[], $2::int[]) AS m(job_id, attempt) RETURNING 1)
         SELECT pg_notify($4, '') FROM (SELECT 1 FROM ins LIMIT 1) x`,
        [messages.map((m) => m.jobId), messages.map((m) => m.attempt), delayMs, channel],
      );
    },

    async receive(receiveOptions) {
      const { maxMessages, visibilityTimeoutSeconds, waitTimeSeconds, signal, claim } = receiveOptions;
      if (options.sharesStore && !claim) {
        throw new TypeError('receive: this PostgreSQL queue shares the store, whose jobs table is the queue; pass { claim } to claim jobs from it');
      }
      if (!closed) await listen();
      if (claim && claimDue) return receiveClaimed(claimDue, { ...receiveOptions, claim });
      const deadline = Date.now() + waitTimeSeconds * 1000;
      for (;;) {
        const receipt = randomUUID();
        const { rows } = await db.query<QueueRow>(
          `WITH picked AS (SELECT id FROM ${table} WHERE visible_at <= ${nowMs} ORDER BY visible_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
           UPDATE ${table} q SET visible_at = ${nowMs} + $2, receive_count = receive_count + 1, receipt = $3
           FROM picked WHERE q.id = picked.id RETURNING q.id, q.job_id, q.attempt, q.receive_count`,
          [maxMessages, Math.round(visibilityTimeoutSeconds * 1000), receipt],
        );
        const remaining = deadline - Date.now();
        if (rows.length > 0 || remaining <= 0 || signal?.aborted) {
          return rows.map((row) => toDelivery(row, receipt));
        }
        await waitForEvent(wakes, 'wake', Math.min(pollIntervalMs, remaining), signal);
      }
    },

    // A delivery claimed from the jobs table has nothing to ack or extend: the store's completion
    // and lease renewals are its whole state.
    async ack(delivery) {
      if (delivery.handle === fromStore) return;
      const { id, receipt } = delivery.handle as QueueHandle;
      await db.query(`DELETE FROM ${table} WHERE id = $1 AND receipt = $2`, [id, receipt]);
    },

    extendVisibility: (delivery, seconds) =>
      delivery.handle === fromStore ? Promise.resolve() : setVisibility(delivery, `${nowMs} + $3`, [Math.round(seconds * 1000)]),

    async release(delivery) {
      if (delivery.handle !== fromStore) await setVisibility(delivery, nowMs, []);
      await wake();
    },

    async close() {
      closed = true;
      if (listener) {
        await listener.query(`UNLISTEN "${channel}"`).catch(() => {});
        listener.release();
        listener = undefined;
      }
    },
    claimsFromStore: options.sharesStore === true,
  };
}
