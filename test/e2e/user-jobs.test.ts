import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, root, startWithApi, stopProcess, tempDir } from '../helpers/stack.js';

const running: JobshiftProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p)));
});

describe('user-defined job types', () => {
  it('finds jobshift.config.ts in the working directory and runs the README example', async () => {
    const dataDir = tempDir();
    // JOBSHIFT_JOBS empty: the config file must be found by convention, not by the test setting.
    const dev = await startWithApi('dev', dataDir, { JOBSHIFT_JOBS: '' }, join(root, 'examples/greeting'));
    running.push(dev.proc);
    const client = clientFor(dev.url, readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim());
    expect((await client.jobTypes()).items.map((t) => t.type)).toEqual(['document.pdf', 'image.thumbnail', 'csv.transform', 'greeting.card']);
    const job = await client.submit({ type: 'greeting.card', input: { name: 'Ada', language: 'fr', repeat: 3 } });
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { lines: 3 } });
    const text = await (await fetch(dev.url + (done.artifacts[0]?.url as string), { headers: { authorization: `Bearer ${readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim()}` } })).text();
    expect(text).toBe('Bonjour, Ada! (1/3)\nBonjour, Ada! (2/3)\nBonjour, Ada! (3/3)\n');
    await expect(client.submit({ type: 'greeting.card', input: { name: 'Ada', language: 'es' } })).rejects.toMatchObject({
      status: 400,
      problem: { field: 'input.language' },
    });
    const nobody = await client.submit({ type: 'greeting.card', input: { name: 'nobody' } });
    expect(await client.waitForJob(nobody.id)).toMatchObject({ status: 'failed', attempts: 1, error: { message: 'input.name: nobody to greet' } });
  });
});
