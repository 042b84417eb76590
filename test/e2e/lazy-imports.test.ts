import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { profile, root } from '../helpers/stack.js';

async function packagesLoadedBy(script: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', join(root, 'test/fixtures/trace-imports.mjs'), '--input-type=module', '-e', script],
    { cwd: root },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as string[];
}

const heavy = (packages: string[]) => packages.filter((p) => p.startsWith('@aws-sdk/') || p === 'pg');

describe.skipIf(profile !== 'embedded')('lazy loading of drivers and SDKs', () => {
  it("importing 'jobshift' loads neither the AWS SDK nor pg", async () => {
    const loaded = await packagesLoadedBy("const j = await import('jobshift'); if (typeof j.defineJob !== 'function') process.exit(3);");
    expect(loaded).toContain('zod');
    expect(heavy(loaded)).toEqual([]);
  });

  it('an embedded process opens its backends without them, and an aws one loads them', async () => {
    const open = (env: Record<string, string>) =>
      `const { loadConfig } = await import('./dist/config/config.js');
       const { openBackends } = await import('./dist/config/compose.js');
       const config = loadConfig({ dataDir: '${join(root, '.jobshift-lazy-test')}' }, ${JSON.stringify(env)});
       try { const b = await openBackends(config); await b.close(); } catch {}`;
    expect(heavy(await packagesLoadedBy(open({})))).toEqual([]);
    const aws = await packagesLoadedBy(
      open({ JOBSHIFT_QUEUE: 'sqs', JOBSHIFT_SQS_QUEUE: 'q', JOBSHIFT_AWS_ENDPOINT: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' }),
    );
    expect(aws).toContain('@aws-sdk/client-sqs');
    expect(aws).not.toContain('pg');
  });
});
