import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, DescribeTableCommand, UpdateTimeToLiveCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';

/**
 * Single-table design (all keys are strings):
 *
 * | item | pk | sk | gsi1 (tenant, time) | gsi2 (tenant+status, time) | gsi3 (due) |
 * |---|---|---|---|---|---|
 * | job | `JOB#<id>` | `JOB` | `T#<tenant>`, `<createdAt>#<id>` | `T#<tenant>#S#<status>`, `<createdAt>#<id>` | `DUE`, `<runAt or leaseExpiresAt>#<id>` while queued/running |
 * | log line | `JOB#<id>` | `LOG#<at>#<attempt>#<rand>` | | | |
 * | idempotency key | `IDEM#<tenant>#<key>` | `IDEM` | | | |
 * | API key | `APIKEY#<sha256>` | `APIKEY` | | | |
 *
 * Times are zero-padded milliseconds so they sort as strings. `expiresAt` (epoch seconds) is the
 * TTL attribute: finished jobs and their logs disappear after the retention period.
 */
export const tableIndexes = ['gsi1', 'gsi2', 'gsi3'] as const;

export const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

/** Creates the table, its indexes and TTL; does nothing for what already exists. */
export async function ensureJobTable(client: DynamoDBClient, tableName: string): Promise<'created' | 'exists'> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return 'exists';
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  const attributes = ['pk', 'sk', ...tableIndexes.flatMap((i) => [`${i}pk`, `${i}sk`])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: tableIndexes.map((index) => ({
          IndexName: index,
          KeySchema: [
            { AttributeName: `${index}pk`, KeyType: 'HASH' },
            { AttributeName: `${index}sk`, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceInUseException') throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } }),
  ).catch((error: unknown) => {
    if (!/already enabled/i.test((error as Error).message)) throw error;
  });
  return 'created';
}
