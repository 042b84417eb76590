import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { ApiKeyStore, JobStore } from '../ports/job-store.js';
import type { SqliteDatabase } from '../adapters/sqlite/database.js';
import type { PostgresDatabase } from '../adapters/postgres/database.js';
import type { AwsConnection } from '../adapters/aws-clients.js';
import { createThreadExecutor } from '../worker/thread-executor.js';
import type { HandlerExecutor } from '../worker/executor.js';
import type { LambdaDeps } from '../worker/lambda-runtime.js';
import type { JobRegistry } from '../core/registry.js';
import type { Runtime } from '../core/placement.js';
import type { Config } from './config.js';

export interface Backends {
  store: JobStore;
  keys: ApiKeyStore;
  queue: JobQueue;
  artifacts: ArtifactStore;
  /** The SQS dead-letter queue, when the queue is SQS and its DLQ exists. */
  deadLetters: JobQueue | null;
  close(): Promise<void>;
}

export const artifactsDir = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'artifacts');
export const databasePath = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'jobshift.db');

export const awsConnection = (config: Pick<Config, 'awsEndpoint'>): AwsConnection => ({
  endpoint: config.awsEndpoint || undefined,
});

/**
 * The only place that chooses adapters. Drivers and SDKs are imported lazily, so a process
 * loads the AWS SDK or `pg` only when its configuration names them.
 */
export async function openBackends(
  config: Config,
  options: { clock?: Clock; logger?: Logger; runtimeOf?: (type: string) => Runtime | undefined } = {},
): Promise<Backends> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const closers: (() => Promise<void> | void)[] = [];
  let sqlite: SqliteDatabase | undefined;
  let postgres: PostgresDatabase | undefined;

  const openSqlite = async () => {
    if (!sqlite) {
      const { openSqliteDatabase } = await import('../adapters/sqlite/database.js');
      const db = openSqliteDatabase(databasePath(config), { busyTimeoutMs: config.sqliteBusyTimeoutMs });
      sqlite = db;
      closers.push(() => {
        if (db.open) db.close();
      });
    }
    return sqlite;
  };
  const openPg = async () => {
    if (!postgres) {
      const { openPostgres } = await import('../adapters/postgres/database.js');
      const { migratePostgres } = await import('../adapters/postgres/migrations.js');
      const db = openPostgres({ connectionString: config.databaseUrl, schema: config.postgresSchema, maxConnections: config.postgresPoolSize });
      postgres = db;
      closers.push(() => db.close());
      await migratePostgres(db);
    }
    return postgres;
  };

  try {
    let store: JobStore;
    let keys: ApiKeyStore;
    if (config.store === 'postgres') {
      const db = await openPg();
      const { createPostgresJobStore } = await import('../adapters/postgres/postgres-job-store.js');
      const { createPostgresApiKeyStore } = await import('../adapters/postgres/postgres-api-key-store.js');
      store = createPostgresJobStore({ db });
      keys = createPostgresApiKeyStore({ db });
    } else if (config.store === 'dynamodb') {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
      const { awsClientConfig } = await import('../adapters/aws-clients.js');
      const { createDynamoDbJobStore } = await import('../adapters/dynamodb/dynamodb-job-store.js');
      const { createDynamoDbApiKeyStore } = await import('../adapters/dynamodb/dynamodb-api-key-store.js');
      const raw = new DynamoDBClient(awsClientConfig(awsConnection(config)));
      const client = DynamoDBDocumentClient.from(raw);
      closers.push(() => raw.destroy());
      store = createDynamoDbJobStore({ client, tableName: config.dynamodbTable, clock, retentionDays: config.retentionDays });
      keys = createDynamoDbApiKeyStore({ client, tableName: config.dynamodbTable, clock });
    } else {
      const db = await openSqlite();
      const { createSqliteJobStore } = await import('../adapters/sqlite/sqlite-job-store.js');
      const { createSqliteApiKeyStore } = await import('../adapters/sqlite/sqlite-api-key-store.js');
      store = createSqliteJobStore({ db, clock });
      keys = createSqliteApiKeyStore({ db, clock });
    }

    let queue: JobQueue;
    let deadLetters: JobQueue | null = null;
    if (config.queue === 'postgres') {
      const { createPostgresJobQueue } = await import('../adapters/postgres/postgres-job-queue.js');
      queue = createPostgresJobQueue({ db: await openPg(), logger, sharesStore: config.store === 'postgres' });
    } else if (config.queue === 'sqs') {
      const { SQSClient, GetQueueUrlCommand } = await import('@aws-sdk/client-sqs');
      const { awsClientConfig } = await import('../adapters/aws-clients.js');
      const { createSqsJobQueue } = await import('../adapters/sqs/sqs-job-queue.js');
      const client = new SQSClient(awsClientConfig(awsConnection(config)));
      closers.push(() => client.destroy());
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: config.sqsQueue }));
      queue = createSqsJobQueue({ client, queueUrl: QueueUrl as string, logger });
      const pools = new Map<Runtime, JobQueue>();
      for (const [pool, name] of Object.entries(config.poolQueues) as [Runtime, string][]) {
        const url = (await client.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl as string;
        pools.set(pool, createSqsJobQueue({ client, queueUrl: url, logger }));
      }
      if (pools.size > 0) {
        const { createRoutingQueue } = await import('../worker/routing-queue.js');
        queue = createRoutingQueue({ own: queue, pools, runtimeOf: options.runtimeOf ?? (() => undefined) });
      }
      const dlq = await client.send(new GetQueueUrlCommand({ QueueName: config.sqsDeadLetterQueue })).catch(() => null);
      if (dlq?.QueueUrl) deadLetters = createSqsJobQueue({ client, queueUrl: dlq.QueueUrl, logger });
      else logger.warn(`dead-letter queue '${config.sqsDeadLetterQueue}' not found; run \`jobshift init --aws\``);
    } else {
      const { createSqliteJobQueue } = await import('../adapters/sqlite/sqlite-job-queue.js');
      queue = createSqliteJobQueue({ db: await openSqlite(), clock, pollIntervalMs: config.pollIntervalMs, sharesStore: config.store === 'sqlite' });
    }
    closers.unshift(() => queue.close());

    const artifacts = await openArtifactStore(config, closers);
    return {
      store,
      keys,
      queue,
      artifacts,
      deadLetters,
      async close() {
        for (const close of closers) await close();
      },
    };
  } catch (error) {
    for (const close of closers) await Promise.resolve(close()).catch(() => {});
    throw error;
  }
}

/** Artifact storage alone (handler threads need only this). */
export async function openArtifactStore(config: Config, closers: (() => Promise<void> | void)[] = []): Promise<ArtifactStore> {
  if (config.artifacts === 's3') {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const { awsClientConfig } = await import('../adapters/aws-clients.js');
    const { createS3ArtifactStore } = await import('../adapters/s3/s3-artifact-store.js');
    const client = new S3Client({ ...awsClientConfig(awsConnection(config)), forcePathStyle: Boolean(config.awsEndpoint) });
    closers.push(() => client.destroy());
    return createS3ArtifactStore({ client, bucket: config.s3Bucket });
  }
  const { createFsArtifactStore } = await import('../adapters/fs/fs-artifact-store.js');
  return createFsArtifactStore({ rootDir: artifactsDir(config) });
}

/** Everything processJob needs except the shutdown signal, which each runtime owns. */
export function pipelineDeps(
  config: Config,
  backends: Backends,
  parts: { registry: JobRegistry; executor: HandlerExecutor; logger: Logger; workerId: string },
): LambdaDeps {
  return {
    ...backends,
    ...parts,
    clock: systemClock,
    leaseMs: config.leaseSeconds * 1000,
    heartbeatMs: config.heartbeatSeconds * 1000,
  };
}

/** What a handler thread needs to rebuild its side of the composition. */
export interface HandlerThreadData {
  config: Config;
}

export function createHandlerExecutor(config: Config, logger: Logger): HandlerExecutor {
  const here = import.meta.url;
  const entry = new URL(here.endsWith('.ts') ? './handler-thread.ts' : './handler-thread.js', here);
  return createThreadExecutor({
    size: config.concurrency,
    entry,
    workerData: { config } satisfies HandlerThreadData,
    abortGraceMs: config.abortGraceSeconds * 1000,
    logger,
  });
}
