import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../src/client/client.js';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, createKey, heartbeatSeconds, isTerminal, leaseSeconds, profile, startWithApi, startWorker, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';

const running: JobshiftProcess[] = [];
// moto answers every query by sorting the whole table in Python, on one core: this test takes
// ~60 s there (the aws profile runs one test file at a time). The job count stays the same.
const budgetMs = profile === 'aws' ? 240_000 : 120_000;
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p, 'SIGKILL')));
});


describe('crash safety with several worker processes on one data dir', () => {
  it('loses nothing and writes no transition or artifact twice when workers are SIGKILLed at random', async () => {
    const dataDir = tempDir();
    const effects = join(dataDir, 'effects.log');
    const env = { JOBSHIFT_TEST_EFFECTS: effects, JOBSHIFT_CONCURRENCY: '4' };
    const api = await startWithApi('api', dataDir, env);
    running.push(api.proc);
    const key = await createKey(dataDir, 'chaos');
    const client = clientFor(api.url, key);
    // Everything is queued first, so the kills below land while work is in flight.
    const ids: string[] = [];
    // maxAttempts 10: a job whose workers are killed repeatedly must not run out of attempts here;
    // this test is about loss and duplication, the attempt budget has its own tests.
    for (let i = 0; i < 200; i++) ids.push((await client.submit({ type: 'test.sleep', input: { ms: 100 + ((i * 37) % 500) }, maxAttempts: 10 })).id);
    const workers = await Promise.all([1, 2, 3].map(() => startWorker(dataDir, env)));
    running.push(...workers.map((w) => w.proc));

    // Chaos: for a bounded number of rounds, SIGKILL a worker that holds a running job (found from
    // the job's log), at a random moment, and start a replacement.
    let kills = 0;
    let random = 42;
    const next = () => {
      random = (random * 1103515245 + 12345) % 2 ** 31;
      return random / 2 ** 31;
    };
    // Eight rounds, as many kills at most. A look that finds nothing running (workers still
    // starting, or all between jobs) is not a round: look again (20 such looks at most), and stop
    // once nothing is queued either.
    for (let round = 0, emptyLooks = 0; round < 8 && emptyLooks < 20; ) {
      await new Promise((resolve) => setTimeout(resolve, 200 + next() * 600));
      const runningJobs = (await client.listJobs({ status: 'running', limit: 20 })).items;
      const target = runningJobs[Math.floor(next() * runningJobs.length)];
      if (!target) {
        emptyLooks += 1;
        if ((await client.listJobs({ status: 'queued', limit: 1 })).items.length === 0) break;
        continue;
      }
      round += 1;
      const claims = (await client.logs(target.id)).items.filter((l) => l.message.startsWith('claimed by '));
      const holder = claims.at(-1)?.message.split(' ')[2];
      const victim = workers.findIndex((w) => w.workerId === holder);
      const old = workers[victim];
      if (!old) continue;
      old.proc.child.kill('SIGKILL');
      await old.proc.exited;
      kills += 1;
      const replacement = await startWorker(dataDir, env);
      running.push(replacement.proc);
      workers[victim] = replacement;
    }

    const final = await waitUntil(
      async () => {
        // Two small list queries per look; the 200 reads only once nothing is left to run.
        for (const status of ['queued', 'running'] as const) {
          if ((await client.listJobs({ status, limit: 1 })).items.length > 0) return undefined;
        }
        const jobs = await Promise.all(ids.map((id) => client.getJob(id)));
        return jobs.every(isTerminal) ? jobs : undefined;
      },
      budgetMs - 10_000,
      500,
    );
    expect(kills).toBeGreaterThanOrEqual(3);
    const notSucceeded = final.filter((j: JobView) => j.status !== 'succeeded');
    expect(notSucceeded).toEqual([]);

    const effectLines = new Set(readFileSync(effects, 'utf8').trim().split('\n'));
    let reRun = 0;
    for (const job of final) {
      const logs = (await client.logs(job.id)).items.map((l) => l.message);
      expect(logs.filter((m) => m === 'succeeded')).toHaveLength(1);
      expect(logs.filter((m) => m === 'queued')).toHaveLength(1);
      // One published artifact, written by the attempt that completed.
      expect(job.artifacts.map((a) => a.name)).toEqual(['out.txt']);
      const response = await fetch(api.url + (job.artifacts[0]?.url as string), { headers: { authorization: `Bearer ${key}` } });
      expect(await response.text()).toBe(`${job.id}\n`);
      expect(effectLines.has(`${job.id} ${job.attempts} end`)).toBe(true);
      if (job.attempts > 1) reRun += 1;
    }
    // Some jobs must have been interrupted by the kills, or this test proved nothing.
    expect(reRun).toBeGreaterThan(0);
  }, budgetMs);

  it('a job whose worker was killed is claimed again within lease + heartbeat', async () => {
    const dataDir = tempDir();
    const api = await startWithApi('api', dataDir);
    running.push(api.proc);
    const client = clientFor(api.url, await createKey(dataDir, 'recovery'));
    const doomed = await startWorker(dataDir, { JOBSHIFT_CONCURRENCY: '1' });
    running.push(doomed.proc);
    const job = await client.submit({ type: 'test.sleep', input: { ms: 4000 } });
    await waitUntil(async () => (await client.getJob(job.id)).status === 'running');
    const standby = await startWorker(dataDir, { JOBSHIFT_CONCURRENCY: '1' });
    running.push(standby.proc);
    doomed.proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    const reclaimed = await waitUntil(async () => {
      const logs = (await client.logs(job.id)).items;
      return logs.find((l) => l.message.startsWith(`claimed by ${standby.workerId}`));
    }, 30_000, 50);
    const recoveryMs = Date.parse(reclaimed.at) - killedAt;
    // The bound of ARCHITECTURE.md I4 (reconcile interval 0.5 s ≤ heartbeat here), plus slack for a loaded CI machine.
    expect(recoveryMs).toBeLessThanOrEqual((leaseSeconds + heartbeatSeconds) * 1000 + 1500);
    expect(await client.waitForJob(job.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});

