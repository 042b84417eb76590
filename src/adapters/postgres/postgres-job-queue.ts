import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import type { Delivery, JobQueue } from '../../ports/job-queue.js';
import type { PostgresDatabase } from './database.js';
import { translatePgError } from './database.js';
import { waitForEvent } from '../wait-for-event.js';
import type { QueueHandle, QueueRow } from '../sql-rows.js';
import { toDelivery } from '../sql-rows.js';

export interface PostgresJobQueueOptions {
  db: PostgresDatabase;
  /** Fallback poll while idle (delayed messages, missed notifications). @default 500 */
  pollIntervalMs?: number;
  logger?: Logger;
}

/**
 * JobQueue on a PostgreSQL table: receive takes rows with FOR UPDATE SKIP LOCKED so concurrent
 * workers never block each other, and LISTEN/NOTIFY wakes idle receivers the moment a message is sent.
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

  const setVisibility = async (delivery: Delivery, visibleAtSql: string, values: unknown[]) => {
    const { id, receipt } = delivery.handle as QueueHandle;
    await db.query(`UPDATE ${table} SET visible_at = ${visibleAtSql} WHERE id = $1 AND receipt = $2`, [id, receipt, ...values]);
  };

  return {
    async send(messages, sendOptions) {
      if (messages.length === 0) return;
      const delayMs = Math.round((sendOptions?.delaySeconds ?? 0) * 1000);
      await db.query(
        `WITH ins AS (INSERT INTO ${table} (job_id, attempt, visible_at)
                      SELECT m.job_id, m.attempt, ${nowMs} + $3 FROM unnest($1::text[], $2::int[]) AS m(job_id, attempt) RETURNING 1)
         SELECT pg_notify($4, '') FROM (SELECT 1 FROM ins LIMIT 1) x`,
        [messages.map((m) => m.jobId), messages.map((m) => m.attempt), delayMs, channel],
      );
    },

    async receive({ maxMessages, visibilityTimeoutSeconds, waitTimeSeconds, signal }) {
      if (!closed) await listen();
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

    async ack(delivery) {
      const { id, receipt } = delivery.handle as QueueHandle;
      await db.query(`DELETE FROM ${table} WHERE id = $1 AND receipt = $2`, [id, receipt]);
    },

    extendVisibility: (delivery, seconds) => setVisibility(delivery, `${nowMs} + $3`, [Math.round(seconds * 1000)]),

    async release(delivery) {
      await setVisibility(delivery, nowMs, []);
      await db.query('SELECT pg_notify($1, $2)', [channel, '']).catch((error: unknown) => {
        throw translatePgError(error);
      });
    },

    async close() {
      closed = true;
      if (listener) {
        await listener.query(`UNLISTEN "${channel}"`).catch(() => {});
        listener.release();
        listener = undefined;
      }
    },
  };
}
