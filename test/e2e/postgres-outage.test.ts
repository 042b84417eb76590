import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, profile, root, startWithApi, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';

// A PostgreSQL of its own, so stopping it cannot disturb the other suites running beside this one.
const instance = { JOBSHIFT_SERVICES_DIR: '/tmp/jobshift-outage-services', JOBSHIFT_TEST_PG_PORT: '55433' };
const services = (command: string) =>
  execFileSync('bash', [join(root, 'scripts/services.sh'), command], { env: { ...process.env, ...instance }, stdio: 'pipe' });

const running: JobshiftProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p, 'SIGKILL')));
  services('stop-pg');
});

describe.skipIf(profile !== 'postgres')('PostgreSQL outage', () => {
  it('answers 503 + Retry-After while the database is down; workers back off and resume; nothing acknowledged is lost', async () => {
    services('start-pg');
    const dataDir = tempDir();
    const dev = await startWithApi('dev', dataDir, {
      JOBSHIFT_DATABASE_URL: `postgres://postgres@127.0.0.1:${instance.JOBSHIFT_TEST_PG_PORT}/postgres`,
      JOBSHIFT_CONCURRENCY: '4',
    });
    running.push(dev.proc);
    const client = clientFor(dev.url, readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim());
    const accepted: string[] = [];
    for (let i = 0; i < 20; i++) accepted.push((await client.submit({ type: 'test.sleep', input: { ms: 300 } })).id);

    services('stop-pg');
    const during = await fetch(`${dev.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'test.sleep', input: { ms: 1 } }),
    });
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBeTruthy();
    expect(((await during.json()) as { code: string }).code).toBe('store_unavailable');
    expect((await fetch(`${dev.url}/readyz`)).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 3000));

    services('start-pg');
    await waitUntil(async () => (await fetch(`${dev.url}/readyz`)).status === 200, 30_000, 200);
    accepted.push((await client.submit({ type: 'test.sleep', input: { ms: 1 } })).id);
    const final = await waitUntil(async () => {
      const jobs = await Promise.all(accepted.map((id) => client.getJob(id)));
      return jobs.every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.status)) ? jobs : undefined;
    }, 120_000, 500);
    expect(final.filter((j) => j.status !== 'succeeded')).toEqual([]);
    expect(dev.proc.child.exitCode).toBeNull();
  });
});
