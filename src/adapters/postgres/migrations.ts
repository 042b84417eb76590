import type { PostgresDatabase } from './database.js';

/** Ordered, append-only. Each runs once, in a transaction, under an advisory lock. */
const migrations: ((s: string) => string)[] = [
  (s) => `
CREATE TABLE ${s}.jobs (
  id text PRIMARY KEY,
  tenant text NOT NULL,
  type text NOT NULL,
  status text NOT NULL,
  input jsonb NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  attempts_charged integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  timeout_seconds double precision NOT NULL,
  run_at bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint,
  lease_expires_at bigint,
  worker_id text,
  cancel_requested boolean NOT NULL DEFAULT false,
  woken_at bigint,
  progress_percent double precision,
  progress_message text,
  result jsonb,
  error jsonb,
  artifacts jsonb NOT NULL DEFAULT '[]',
  idempotency_key text,
  request_hash text
);
CREATE UNIQUE INDEX jobs_idempotency ON ${s}.jobs (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_tenant_created ON ${s}.jobs (tenant, created_at DESC, id DESC);
CREATE INDEX jobs_queued_due ON ${s}.jobs (run_at) WHERE status = 'queued';
CREATE INDEX jobs_running_lease ON ${s}.jobs (lease_expires_at) WHERE status = 'running';
CREATE TABLE ${s}.job_logs (
  seq bigserial PRIMARY KEY,
  job_id text NOT NULL,
  attempt integer NOT NULL,
  at bigint NOT NULL,
  level text NOT NULL,
  message text NOT NULL
);
CREATE INDEX job_logs_job ON ${s}.job_logs (job_id, seq);
CREATE TABLE ${s}.api_keys (
  id text PRIMARY KEY,
  tenant text NOT NULL,
  name text,
  hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  revoked_at bigint
);
CREATE TABLE ${s}.queue_messages (
  id bigserial PRIMARY KEY,
  job_id text NOT NULL,
  attempt integer NOT NULL,
  visible_at bigint NOT NULL,
  receive_count integer NOT NULL DEFAULT 0,
  receipt text
);
CREATE INDEX queue_messages_visible ON ${s}.queue_messages (visible_at, id);
-- "now" in milliseconds by the database clock, unless a caller (a test) supplies its own.
CREATE FUNCTION ${s}.now_ms(override bigint) RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT COALESCE(override, (extract(epoch from clock_timestamp()) * 1000)::bigint) $$;
`,
];

/** Brings the schema up to date; safe to call from many processes at once. */
export async function migratePostgres(db: PostgresDatabase): Promise<{ applied: number; version: number }> {
  const s = `"${db.schema}"`;
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`jobshift:${db.schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${s}.migrations`);
    const current = rows[0]?.version ?? 0;
    for (let version = current + 1; version <= migrations.length; version++) {
      await client.query((migrations[version - 1] as (s: string) => string)(s));
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [version]);
    }
    return { applied: migrations.length - current, version: migrations.length };
  });
}
