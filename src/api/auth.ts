import { createHash, randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { ApiKeyRecord, ApiKeyStore } from '../ports/job-store.js';

export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Creates a key for a tenant; the secret is returned once and only its hash is stored. */
export async function issueApiKey(keys: ApiKeyStore, tenant: string, name: string | null): Promise<{ key: string; record: ApiKeyRecord }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(tenant)) {
    throw new TypeError(`tenant '${tenant}': expected 1-64 letters, digits, '_' or '-'`);
  }
  const key = `jsk_${randomBytes(24).toString('base64url')}`;
  const record = await keys.createApiKey({ id: newId('key'), tenant, name, hash: hashApiKey(key) });
  return { key, record };
}

export type AuthVariables = { tenant: string; requestId: string };

/** Bearer-key authentication; the key's tenant scopes every job lookup. */
export function requireApiKey(keys: ApiKeyStore): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new UnauthorizedError();
    const record = await keys.findApiKeyByHash(hashApiKey(match[1]));
    if (!record || record.revokedAt !== null) throw new UnauthorizedError('invalid or revoked API key');
    c.set('tenant', record.tenant);
    await next();
  };
}
