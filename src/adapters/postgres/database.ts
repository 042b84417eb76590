import pg from 'pg';
import { StoreUnavailableError } from '../../core/errors.js';

export interface PostgresOptions {
  connectionString: string;
  /** Schema that holds jobshift's tables (one per test, or per deployment). @default 'jobshift' */
  schema?: string;
  /** @default 10 */
  maxConnections?: number;
  /** @default 5000 */
  connectionTimeoutMs?: number;
  /** @default 10000 */
  statementTimeoutMs?: number;
}

export interface PostgresDatabase {
  pool: pg.Pool;
  schema: string;
  /** `schema.table`, quoted. */
  table(name: string): string;
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

/** Retryable by waiting: connection trouble, shutdown, overload, serialization conflicts. */
const unavailableCodes = /^(08|53|57P|40001|40P01)/;

export function translatePgError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (unavailableCodes.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH)/.test(code))) {
    return new StoreUnavailableError(`PostgreSQL unavailable (${code})`, { cause: error });
  }
  if (error instanceof Error && /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error/i.test(error.message)) {
    return new StoreUnavailableError(`PostgreSQL unavailable (${error.message})`, { cause: error });
  }
  return error;
}

/** A pool whose int8 columns arrive as numbers (millisecond timestamps fit easily). */
export function openPostgres(options: PostgresOptions): PostgresDatabase {
  const schema = options.schema ?? 'jobshift';
  if (!identifier.test(schema)) throw new TypeError(`schema '${schema}': expected a lowercase SQL identifier`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as never)) as never,
    },
  });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db: PostgresDatabase = {
    pool,
    schema,
    table: (name) => `"${schema}"."${name}"`,
    async query(text, values) {
      try {
        return await pool.query(text, values);
      } catch (error) {
        throw translatePgError(error);
      }
    },
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translatePgError(error);
      }
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw translatePgError(error);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  return db;
}
