import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, profile, runCli, startWithApi, stopProcess, tempDir } from '../helpers/stack.js';

const running: JobshiftProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p)));
});

describe('honest answers when the store is unavailable', () => {
  it.skipIf(profile !== 'embedded')('(embedded: a SQLite lock) answers 503 with Retry-After while another process holds the write lock, then recovers; nothing accepted is lost', async () => {
    const dataDir = tempDir();
    const dev = await startWithApi('dev', dataDir, { JOBSHIFT_SQLITE_BUSY_TIMEOUT_MS: '200' });
    running.push(dev.proc);
    const key = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
    const client = clientFor(dev.url, key);
    const accepted = await client.submit({ type: 'test.sleep', input: { ms: 1 }, delaySeconds: 2 });

    const locker = new Database(join(dataDir, 'jobshift.db'));
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const response = await fetch(`${dev.url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'test.sleep', input: { ms: 1 } }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(((await response.json()) as { code: string }).code).toBe('store_unavailable');
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    const after = await client.submit({ type: 'test.sleep', input: { ms: 1 } });
    expect(await client.waitForJob(after.id)).toMatchObject({ status: 'succeeded' });
    expect(await client.waitForJob(accepted.id)).toMatchObject({ status: 'succeeded' });
  });

  it('revoked keys stop working at once', async () => {
    const dataDir = tempDir();
    const dev = await startWithApi('dev', dataDir);
    running.push(dev.proc);
    const { stdout: key } = await runCli(['keys', 'create', '--tenant', 'acme', '--name', 'ci', '--data-dir', dataDir]);
    const client = clientFor(dev.url, key.trim());
    expect((await client.listJobs()).items).toEqual([]);
    const { stdout: listing } = await runCli(['keys', 'list', '--tenant', 'acme', '--data-dir', dataDir]);
    const id = listing.trim().split(/\s+/)[0] as string;
    expect(listing).toContain('acme');
    expect(listing).toContain('active');
    await runCli(['keys', 'revoke', id, '--data-dir', dataDir]);
    await expect(client.listJobs()).rejects.toMatchObject({ status: 401 });
    expect((await runCli(['keys', 'list', '--tenant', 'acme', '--data-dir', dataDir])).stdout).toContain('revoked');
  });
});
