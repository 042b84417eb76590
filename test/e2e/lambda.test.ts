import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, createKey, fastEnv, profile, profileEnv, root, runCli, startWithApi, startWorker, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';

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

  it('bundle-lambda packages user job types; the bundled handler runs them from an SQS event', async () => {
    const dataDir = tempDir();
    const jobs = join(root, 'examples/greeting/jobshift.config.ts');
    const api = await startWithApi('api', dataDir, { JOBSHIFT_JOBS: jobs });
    running.push(api.proc);
    const client = clientFor(api.url, await createKey(dataDir, 'bundle'));
    const out = join(dataDir, 'lambda');
    await runCli(['bundle-lambda', '--jobs', jobs, '--out', out, '--zip', join(dataDir, 'fn.zip'), '--data-dir', dataDir]);
    const job = await client.submit({ type: 'greeting.card', input: { name: 'Lambda', repeat: 2 } });
    const event = { Records: [{ messageId: 'm-1', receiptHandle: 'rh-1', body: JSON.stringify({ jobId: job.id, attempt: 0 }), attributes: { ApproximateReceiveCount: '1' } }] };
    const script = `const { handler } = await import(${JSON.stringify(join(out, 'index.mjs'))});
      const response = await handler(${JSON.stringify(event)}, { getRemainingTimeInMillis: () => 30000 });
      console.log(JSON.stringify(response));`;
    const env = { PATH: process.env.PATH ?? '', ...fastEnv, ...profileEnv(dataDir), JOBSHIFT_JOBS: '', LAMBDA_TASK_ROOT: out };
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: out, env });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) as string)).toEqual({ batchItemFailures: [] });
    expect(await client.waitForJob(job.id)).toMatchObject({ status: 'succeeded', result: { lines: 2 } });
  });

  it('routes each job type to its pool: a Lambda-style pool and a container pool on their own SQS queues', async () => {
    const dataDir = tempDir();
    const ns = profileEnv(dataDir).JOBSHIFT_SQS_QUEUE as string;
    const pools = { JOBSHIFT_POOL_QUEUES: JSON.stringify({ lambda: `${ns}-lambda`, fargate: `${ns}-fargate` }) };
    const fargateEnv = { ...pools, JOBSHIFT_SQS_QUEUE: `${ns}-fargate` };
    await runCli(['init', '--aws', '--data-dir', dataDir], fargateEnv);
    const api = await startWithApi('api', dataDir, fargateEnv);
    running.push(api.proc);
    const client = clientFor(api.url, await createKey(dataDir, 'pools'));
    const containerPool = await startWorker(dataDir, fargateEnv);
    const lambdaPool = await startWorker(dataDir, { ...pools, ...lambdaEnv, JOBSHIFT_SQS_QUEUE: `${ns}-lambda` });
    running.push(containerPool.proc, lambdaPool.proc);

    const upload = await client.upload(Buffer.from('k,v\na,1\nb,2\na,3\n'), 'text/csv');
    const jobs = [
      { expected: lambdaPool.workerId, job: await client.submit({ type: 'document.pdf', input: { title: 'pool', markdown: 'lambda' } }) },
      { expected: lambdaPool.workerId, job: await client.submit({ type: 'document.pdf', input: { title: 'pool 2', markdown: 'lambda' } }) },
      {
        expected: containerPool.workerId,
        job: await client.submit({ type: 'csv.transform', input: { source: { upload: upload.id }, groupBy: ['k'], aggregates: [{ column: 'v', fn: 'sum' }] } }),
      },
    ];
    for (const { expected, job } of jobs) {
      expect(await client.waitForJob(job.id)).toMatchObject({ status: 'succeeded' });
      const claims = (await client.logs(job.id)).items.filter((l) => l.message.startsWith('claimed by '));
      expect(claims.map((c) => c.message.split(' ')[2])).toEqual([expected]);
    }
  });
});
