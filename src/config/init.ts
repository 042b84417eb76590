import type { JobRegistry } from '../core/registry.js';
import type { Config } from './config.js';
import { awsConnection } from './compose.js';

/** SQS keeps messages at most 14 days; the DLQ keeps them as long as the source (ARCHITECTURE I5). */
const retentionSeconds = 14 * 86_400;

/** maxReceiveCount = the largest maxAttempts of any job type + 5: a safety net behind the store's budget. */
export const maxReceiveCount = (registry: JobRegistry) => Math.max(...[...registry.values()].map((d) => d.maxAttempts)) + 5;

/** Creates the SQS queues (with DLQ), the DynamoDB table and the S3 bucket the config names; idempotent. */
export async function initAws(config: Config, registry: JobRegistry, report: (line: string) => void): Promise<void> {
  const { awsClientConfig } = await import('../adapters/aws-clients.js');
  const connection = awsClientConfig(awsConnection(config));
  if (config.queue === 'sqs') {
    const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
    const sqs = new SQSClient(connection);
    const dlq = await sqs.send(
      new CreateQueueCommand({ QueueName: config.sqsDeadLetterQueue, Attributes: { MessageRetentionPeriod: String(retentionSeconds) } }),
    );
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const attributes = {
      MessageRetentionPeriod: String(retentionSeconds),
      VisibilityTimeout: String(Math.ceil(config.leaseSeconds)),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: maxReceiveCount(registry) }),
    };
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: config.sqsQueue }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, Attributes: attributes }));
    report(`SQS queue ${config.sqsQueue} (DLQ ${config.sqsDeadLetterQueue}, maxReceiveCount ${maxReceiveCount(registry)}): ready`);
    for (const [pool, name] of Object.entries(config.poolQueues)) {
      if (name === config.sqsQueue) continue;
      const poolDlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: String(retentionSeconds) } }));
      const poolDlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: poolDlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
      const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: created.QueueUrl,
          Attributes: { ...attributes, RedrivePolicy: JSON.stringify({ deadLetterTargetArn: poolDlqArn, maxReceiveCount: maxReceiveCount(registry) }) },
        }),
      );
      report(`SQS queue ${name} for the ${pool} pool (DLQ ${name}-dlq): ready`);
    }
    sqs.destroy();
  }
  if (config.store === 'dynamodb') {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { ensureJobTable } = await import('../adapters/dynamodb/table.js');
    const dynamodb = new DynamoDBClient(connection);
    report(`DynamoDB table ${config.dynamodbTable}: ${await ensureJobTable(dynamodb, config.dynamodbTable)}`);
    dynamodb.destroy();
  }
  if (config.artifacts === 's3') {
    const { S3Client, CreateBucketCommand, PutPublicAccessBlockCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ ...connection, forcePathStyle: Boolean(config.awsEndpoint) });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: config.s3Bucket }));
    } catch (error) {
      if (!/BucketAlready(OwnedByYou|Exists)/.test((error as { name?: string }).name ?? '')) throw error;
    }
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: config.s3Bucket,
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
      }),
    );
    report(`S3 bucket ${config.s3Bucket}: ready (public access blocked)`);
    s3.destroy();
  }
}

/** Runs the PostgreSQL migrations (also done on every start). */
export async function initPostgres(config: Config, report: (line: string) => void): Promise<void> {
  const { openPostgres } = await import('../adapters/postgres/database.js');
  const { migratePostgres } = await import('../adapters/postgres/migrations.js');
  const db = openPostgres({ connectionString: config.databaseUrl, schema: config.postgresSchema, maxConnections: 1 });
  try {
    const { applied, version } = await migratePostgres(db);
    report(`PostgreSQL schema ${config.postgresSchema}: version ${version} (${applied} migration(s) applied)`);
  } finally {
    await db.close();
  }
}
