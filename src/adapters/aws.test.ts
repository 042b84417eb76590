import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { testAws, testAwsEndpoint, uniqueName } from '../../test/helpers/services.js';
import { runArtifactStoreConformance } from '../ports/artifact-store.conformance.js';
import { createManualClock } from '../core/clock.js';
import { runJobQueueConformance } from '../ports/job-queue.conformance.js';
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
    };
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
