import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { testAws, testAwsEndpoint, uniqueName } from '../../test/helpers/services.js';
import { runArtifactStoreConformance } from '../ports/artifact-store.conformance.js';
import { loadConfig } from '../config/config.js';
import { withDatabaseSecret } from '../config/secrets.js';
import { createManualClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import { startDeadLetterReader } from '../worker/dead-letter-reader.js';
import { claimingQueueJob } from '../ports/claiming-queue.conformance.js';
import { runJobQueueConformance } from '../ports/job-queue.conformance.js';
import type { NewJob } from '../ports/job-store.js';
import { runJobStoreConformance } from '../ports/job-store.conformance.js';
import { createDynamoDbJobStore } from './dynamodb/dynamodb-job-store.js';
import { ensureJobTable } from './dynamodb/table.js';
import { awsClientConfig } from './aws-clients.js';
import { createS3ArtifactStore } from './s3/s3-artifact-store.js';
import { createSqsJobQueue } from './sqs/sqs-job-queue.js';

const s3 = () => new S3Client({ ...awsClientConfig(testAws), forcePathStyle: true });
const sqs = () => new SQSClient(awsClientConfig(testAws));

async function freshBucket() {
  const client = s3();
  const bucket = uniqueName('b').replace(/_/g, '-');
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { client, bucket };
}

describe.skipIf(!testAwsEndpoint)('AWS adapters against moto', () => {
  runArtifactStoreConformance('s3', async () => {
    const { client, bucket } = await freshBucket();
    return { store: createS3ArtifactStore({ client, bucket, partSizeBytes: 5 * 1024 * 1024 }), close: async () => client.destroy() };
  });

  runJobQueueConformance('sqs', async () => {
    const client = sqs();
    const created = await client.send(new CreateQueueCommand({ QueueName: uniqueName('q') }));
    return { queue: createSqsJobQueue({ client, queueUrl: created.QueueUrl as string }), close: async () => client.destroy() };
  });

  runJobStoreConformance('dynamodb', async () => {
    const raw = new DynamoDBClient(awsClientConfig(testAws));
    const tableName = uniqueName('jobs');
    await ensureJobTable(raw, tableName);
    const clock = createManualClock();
    return {
      store: createDynamoDbJobStore({ client: DynamoDBDocumentClient.from(raw), tableName, clock }),
      now: () => clock.now(),
      advance: async (ms) => clock.advance(ms),
      close: async () => raw.destroy(),
      atomicBatches: false,
    };
  });

  it('SQS: a wake-up received more than maxReceiveCount times lands in the DLQ and the reader fails its job', async () => {
    const client = sqs();
    const dlq = await client.send(new CreateQueueCommand({ QueueName: uniqueName('dlq') }));
    const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    const main = await client.send(
      new CreateQueueCommand({
        QueueName: uniqueName('q'),
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) },
      }),
    );
    const queue = createSqsJobQueue({ client, queueUrl: main.QueueUrl as string });
    const deadLetters = createSqsJobQueue({ client, queueUrl: dlq.QueueUrl as string });
    const raw = new DynamoDBClient(awsClientConfig(testAws));
    const tableName = uniqueName('jobs');
    await ensureJobTable(raw, tableName);
    const store = createDynamoDbJobStore({ client: DynamoDBDocumentClient.from(raw), tableName });
    const { job } = await store.createJob({ id: 'job_dlq', tenant: 't1', type: 'x.y', input: {}, maxAttempts: 3, timeoutSeconds: 5, runAt: Date.now() });
    await queue.send([{ jobId: job.id, attempt: 0 }]);
    // Two receives that never ack (a worker dying each time), then the receive budget is spent.
    for (let i = 0; i < 2; i++) {
      expect(await queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 1, waitTimeSeconds: 2 })).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
    expect(await queue.receive({ maxMessages: 1, visibilityTimeoutSeconds: 1, waitTimeSeconds: 1 })).toEqual([]);
    const reader = startDeadLetterReader({ deadLetters, store, logger: silentLogger, waitTimeSeconds: 1 });
    try {
      for (let i = 0; i < 50 && (await store.getJob(job.id))?.status !== 'failed'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await reader.stop();
    }
    expect(await store.getJob(job.id)).toMatchObject({ status: 'failed', error: { code: 'dead_lettered' } });
    raw.destroy();
    client.destroy();
  });

  it("DynamoDB: the claiming worker's transitions are one conditional write each; another process's read the job first", async () => {
    const raw = new DynamoDBClient(awsClientConfig(testAws));
    const tableName = uniqueName('jobs');
    await ensureJobTable(raw, tableName);
    const calls: string[] = [];
    raw.middlewareStack.add((next, context) => (args) => {
      calls.push(String(context.commandName));
      return next(args);
    }, { step: 'initialize', name: 'countCalls' });
    const client = DynamoDBDocumentClient.from(raw);
    const api = createDynamoDbJobStore({ client, tableName });
    const worker = createDynamoDbJobStore({ client, tableName });
    const other = createDynamoDbJobStore({ client, tableName });
    const [a, b, c] = [1, 2, 3].map(() => claimingQueueJob(Date.now() - 1)) as [NewJob, NewJob, NewJob];
    for (const job of [a, b, c]) await api.createJob(job);
    for (const job of [a, b, c]) expect(await worker.claimJob(job.id, { workerId: 'w1', leaseMs: 60_000 })).toMatchObject({ attempt: 1, attemptsCharged: 1 });

    calls.length = 0;
    await worker.completeJob(a.id, 1, { result: { ok: true }, artifacts: [] });
    await worker.releaseJob(b.id, 1);
    await worker.failJob(c.id, 1, { error: { code: 'boom', message: 'boom' }, retryAt: null });
    expect(calls).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
    // Still fenced: a stale owner's write is refused without a read.
    await expect(worker.completeJob(b.id, 1, { result: null, artifacts: [] })).rejects.toThrow(/lease/i);
    expect(calls.filter((name) => name === 'GetItemCommand')).toEqual([]);

    // The rows and the status index are what a read-first transition writes.
    expect(await api.getJob(a.id)).toMatchObject({ status: 'succeeded', result: { ok: true }, attempt: 1 });
    expect(await api.getJob(b.id)).toMatchObject({ status: 'queued', attempt: 1, attemptsCharged: 0, workerId: null, leaseExpiresAt: null });
    expect(await api.getJob(c.id)).toMatchObject({ status: 'failed', error: { code: 'boom' } });
    const ids = async (status: 'succeeded' | 'queued' | 'failed') => (await api.listJobs({ tenant: 't1', status, limit: 10 })).items.map((j) => j.id);
    expect([await ids('succeeded'), await ids('queued'), await ids('failed')]).toEqual([[a.id], [b.id], [c.id]]);
    expect((await api.getLogs(b.id)).map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)', 'handed back (worker shutting down)']);

    // A process that did not claim the job (it knows nothing of it) reads it, then writes.
    expect(await worker.claimJob(b.id, { workerId: 'w1', leaseMs: 60_000 })).toMatchObject({ attempt: 2, attemptsCharged: 1 });
    calls.length = 0;
    await expect(other.completeJob(b.id, 1, { result: null, artifacts: [] })).rejects.toThrow(/lease/i);
    await other.completeJob(b.id, 2, { result: 'late', artifacts: [] });
    expect(calls).toEqual(['GetItemCommand', 'GetItemCommand', 'UpdateItemCommand']);
    expect(await ids('succeeded')).toEqual(expect.arrayContaining([a.id, b.id]));
    raw.destroy();
  });

  it('DynamoDB: a job written before log lines were counted keeps every line, listed by time', async () => {
    const raw = new DynamoDBClient(awsClientConfig(testAws));
    const tableName = uniqueName('jobs');
    await ensureJobTable(raw, tableName);
    const client = DynamoDBDocumentClient.from(raw);
    const clock = createManualClock();
    const store = createDynamoDbJobStore({ client, tableName, clock });
    const job = claimingQueueJob(clock.now());
    await store.createJob(job);
    // What an earlier version wrote: the same item without the count.
    await client.send(new UpdateCommand({ TableName: tableName, Key: { pk: `JOB#${job.id}`, sk: 'JOB' }, UpdateExpression: 'REMOVE logPosition' }));
    clock.advance(1);
    await store.claimJob(job.id, { workerId: 'w1', leaseMs: 60_000 });
    clock.advance(1);
    await store.appendLog(job.id, 1, 'working');
    clock.advance(1);
    await store.completeJob(job.id, 1, { result: null, artifacts: [] });
    expect((await store.getLogs(job.id)).map((l) => l.message)).toEqual(['queued', 'claimed by w1 (attempt 1)', 'working', 'succeeded']);
    raw.destroy();
  });

  it('Lambda reads the RDS secret from Secrets Manager by ARN and builds the database URL from it', async () => {
    const { SecretsManagerClient, CreateSecretCommand } = await import('@aws-sdk/client-secrets-manager');
    const client = new SecretsManagerClient(awsClientConfig(testAws));
    const secret = await client.send(
      new CreateSecretCommand({
        Name: uniqueName('db'),
        SecretString: JSON.stringify({ username: 'jobshift', password: 's3cret', host: 'db.internal', port: 5432, dbname: 'jobs' }),
      }),
    );
    client.destroy();
    // As in a Lambda function, credentials come from this process's environment.
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    const env = await withDatabaseSecret({ JOBSHIFT_DATABASE_SECRET_ARN: secret.ARN, JOBSHIFT_AWS_ENDPOINT: testAwsEndpoint });
    expect(loadConfig({}, { ...env, JOBSHIFT_STORE: 'postgres' }, '/').databaseUrl).toBe('postgres://jobshift:s3cret@db.internal:5432/jobs');
  });

  it('S3: presigned GET URLs download without credentials', async () => {
    const { client, bucket } = await freshBucket();
    const store = createS3ArtifactStore({ client, bucket });
    await store.put('tenants/t1/jobs/j1/1/a.txt', 'presigned!', { contentType: 'text/plain' });
    const url = await store.presignGet?.('tenants/t1/jobs/j1/1/a.txt', { expiresSeconds: 60, filename: 'a.txt' });
    const response = await fetch(url as string);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('presigned!');
    client.destroy();
  });
});
