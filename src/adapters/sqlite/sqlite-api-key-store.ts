import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import type { ApiKeyStore } from '../../ports/job-store.js';
import type { KeyRow } from '../sql-rows.js';
import { keyColumns, toKeyRecord } from '../sql-rows.js';
import type { SqliteDatabase } from './database.js';
import { guarded } from './database.js';

export function createSqliteApiKeyStore(options: { db: SqliteDatabase; clock?: Clock }): ApiKeyStore {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const columns = keyColumns;
  const insert = db.prepare('INSERT INTO api_keys (id, tenant, name, hash, created_at) VALUES (?, ?, ?, ?, ?)');
  const byHash = db.prepare(`SELECT ${columns} FROM api_keys WHERE hash = ?`);
  const byId = db.prepare(`SELECT ${columns} FROM api_keys WHERE id = ?`);
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  return {
    createApiKey: ({ id, tenant, name, hash }) =>
      guarded(() => {
        insert.run(id, tenant, name, hash, clock.now());
        return toKeyRecord(byId.get(id) as KeyRow);
      }),
    findApiKeyByHash: (hash) =>
      guarded(() => {
        const row = byHash.get(hash) as KeyRow | undefined;
        return row ? toKeyRecord(row) : null;
      }),
    listApiKeys: (tenant) =>
      guarded(() => {
        const rows = (
          tenant === undefined
            ? db.prepare(`SELECT ${columns} FROM api_keys ORDER BY created_at`).all()
            : db.prepare(`SELECT ${columns} FROM api_keys WHERE tenant = ? ORDER BY created_at`).all(tenant)
        ) as KeyRow[];
        return rows.map(toKeyRecord);
      }),
    revokeApiKey: (id) =>
      guarded(() => {
        if (!byId.get(id)) return false;
        revoke.run(clock.now(), id);
        return true;
      }),
  };
}
