import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../ports/job-store.js';
import { translateAwsError } from '../aws-errors.js';

interface KeyItem {
  pk: string;
  id: string;
  tenant: string;
  name: string | null;
  createdAt: number;
  revokedAt?: number;
}

const toRecord = (item: KeyItem): ApiKeyRecord => ({
  id: item.id,
  tenant: item.tenant,
  name: item.name,
  createdAt: item.createdAt,
  revokedAt: item.revokedAt ?? null,
});

/** API keys as items `APIKEY#<sha256>`; listing and revocation scan (admin operations, few keys). */
export function createDynamoDbApiKeyStore(options: { client: DynamoDBDocumentClient; tableName: string; clock?: Clock }): ApiKeyStore {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  const scanKeys = async (): Promise<KeyItem[]> => {
    const items: KeyItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName,
          FilterExpression: 'begins_with(pk, :p)',
          ExpressionAttributeValues: { ':p': 'APIKEY#' },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      items.push(...((page.Items ?? []) as KeyItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.sort((a, b) => a.createdAt - b.createdAt);
  };
  const guard = async <T>(run: () => Promise<T>) => {
    try {
      return await run();
    } catch (error) {
      throw translateAwsError(error);
    }
  };
  return {
    createApiKey: ({ id, tenant, name, hash }) =>
      guard(async () => {
        const item: KeyItem = { pk: `APIKEY#${hash}`, id, tenant, name, createdAt: clock.now() };
        await client.send(new PutCommand({ TableName, Item: { ...item, sk: 'APIKEY' }, ConditionExpression: 'attribute_not_exists(pk)' }));
        return toRecord(item);
      }),
    findApiKeyByHash: (hash) =>
      guard(async () => {
        const result = await client.send(new GetCommand({ TableName, Key: { pk: `APIKEY#${hash}`, sk: 'APIKEY' }, ConsistentRead: true }));
        return result.Item ? toRecord(result.Item as KeyItem) : null;
      }),
    listApiKeys: (tenant) => guard(async () => (await scanKeys()).filter((k) => tenant === undefined || k.tenant === tenant).map(toRecord)),
    revokeApiKey: (id) =>
      guard(async () => {
        const item = (await scanKeys()).find((k) => k.id === id);
        if (!item) return false;
        await client.send(
          new UpdateCommand({
            TableName,
            Key: { pk: item.pk, sk: 'APIKEY' },
            UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :now)',
            ExpressionAttributeValues: { ':now': clock.now() },
          }),
        );
        return true;
      }),
  };
}
