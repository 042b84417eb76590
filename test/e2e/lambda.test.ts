import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, createKey, profile, startWithApi, startWorker, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';

const running: JobshiftProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p, 'SIGKILL')));
});

const lambdaEnv = {
  JOBSHIFT_RUNTIME: 'lambda',
  JOBSHIFT_LAMBDA_TIMEOUT_SECONDS: '6',
  JOBSHIFT_LAMBDA_VISIBILITY_SECONDS: '3',
  JOBSHIFT_LAMBDA_BATCH_SIZE: '5',
  JOBSHIFT_LAMBDA_BATCH_WINDOW_SECONDS: '0.5',
  JOBSHIFT_LAMBDA_MAX_CONCURRENCY: '2',
};

describe.skipIf(profile !== 'aws')('the Lambda runtime behind a local SQS event source mapping (SQS on moto)', () => {
  it('runs jobs through the same pipeline, and hands back work it cannot finish before the deadline', async () => {
    const dataDir = tempDir();
    const api = await startWithApi('api', dataDir);
    running.push(api.proc);
    const client = clientFor(api.url, await createKey(dataDir, 'lambda'));
    const lambda = await startWorker(dataDir, lambdaEnv).catch(async () => {
      throw new Error('lambda runtime did not start');
    });
    running.push(lambda.proc);
    await lambda.proc.waitFor(/lambda runtime started/);

    const pdfs = await Promise.all(
      Array.from({ length: 6 }, (_, i) => client.submit({ type: 'document.pdf', input: { title: `Doc ${i}`, markdown: `# ${i}` } })),
    );
    const poison = await client.submit({ type: 'test.fail', input: {}, maxAttempts: 2 });
    const tooLong = await client.submit({ type: 'test.sleep', input: { ms: 60_000 } });
    for (const job of pdfs) expect(await client.waitForJob(job.id)).toMatchObject({ status: 'succeeded', result: { pages: 1 } });
    expect(await client.waitForJob(poison.id)).toMatchObject({ status: 'failed', attempts: 2 });

    // 60 s of work in a 6 s function: handed back before the deadline, again and again, never killed mid-write.
    const handedBack = await waitUntil(async () => {
      const lines = (await client.logs(tooLong.id)).items.filter((l) => l.message === 'handed back (worker shutting down)');
      return lines.length >= 2 ? lines : undefined;
    }, 60_000, 500);
    expect(handedBack.length).toBeGreaterThanOrEqual(2);
    const job = await client.getJob(tooLong.id);
    expect(job.status === 'queued' || job.status === 'running').toBe(true);
    await client.cancel(tooLong.id);
    expect(await client.waitForJob(tooLong.id)).toMatchObject({ status: 'cancelled' });
  });
});
