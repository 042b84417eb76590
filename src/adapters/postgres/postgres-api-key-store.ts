import type { ApiKeyStore } from '../../ports/job-store.js';
import type { KeyRow } from '../sql-rows.js';
import { keyColumns, toKeyRecord } from '../sql-rows.js';
import type { PostgresDatabase } from './database.js';

export function createPostgresApiKeyStore(options: { db: PostgresDatabase }): ApiKeyStore {
  const { db } = options;
  const keys = db.table('api_keys');
  const now = `"${db.schema}".now_ms(NULL)`;
  const columns = keyColumns;
  return {
    async createApiKey({ id, tenant, name, hash }) {
      const { rows } = await db.query<KeyRow>(
        `INSERT INTO ${keys} (id, tenant, name, hash, created_at) VALUES ($1, $2, $3, $4, ${now}) RETURNING ${columns}`,
        [id, tenant, name, hash],
      );
      return toKeyRecord(rows[0] as KeyRow);
    },
    async findApiKeyByHash(hash) {
      const row = (await db.query<KeyRow>(`SELECT ${columns} FROM ${keys} WHERE hash = $1`, [hash])).rows[0];
      return row ? toKeyRecord(row) : null;
    },
    async listApiKeys(tenant) {
      const { rows } =
        tenant === undefined
          ? await db.query<KeyRow>(`SELECT ${columns} FROM ${keys} ORDER BY created_at`)
          : await db.query<KeyRow>(`SELECT ${columns} FROM ${keys} WHERE tenant = $1 ORDER BY created_at`, [tenant]);
      return rows.map(toKeyRecord);
    },
    async revokeApiKey(id) {
      const { rows } = await db.query<{ id: string }>(
        `UPDATE ${keys} SET revoked_at = COALESCE(revoked_at, ${now}) WHERE id = $1 RETURNING id`,
        [id],
      );
      return rows.length === 1;
    },
  };
}
