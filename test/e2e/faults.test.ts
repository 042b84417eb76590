import { setMaxListeners } from 'node:events';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { issueApiKey } from '../../src/api/auth.js';
import { loadConfig } from '../../src/config/config.js';
import type { Backends } from '../../src/config/compose.js';
import { openBackends } from '../../src/config/compose.js';
import { loadRegistry } from '../../src/config/load-jobs.js';
import { systemClock } from '../../src/core/clock.js';
import type { Job } from '../../src/core/job.js';
import { silentLogger } from '../../src/core/logger.js';
import { createInlineExecutor } from '../../src/worker/inline-executor.js';
import { startPoller } from '../../src/worker/poller.js';
import { processJob } from '../../src/worker/process-job.js';
import { startReconciler } from '../../src/worker/reconciler.js';
import { newCounts, seeded, withQueueFaults, withStoreFaults } from '../helpers/faults.js';
import { fastEnv, fixturesModule, prepareProfile, profile, profileEnv, tempDir, waitUntil } from '../helpers/stack.js';

// moto answers DynamoDB index queries by scanning the whole table in Python, so 2,000 jobs take
// longer than CI allows on the emulator; the embedded and postgres profiles run the full 2,000.
const jobCount = profile === 'aws' ? Number(process.env.JOBSHIFT_TEST_FAULT_JOBS ?? 200) : 2000;
// Fewer jobs on moto, so a higher rate keeps every kind of fault present in the sample.
const faultRate = profile === 'aws' ? 0.06 : 0.02;
let backends: Backends | undefined;
afterAll(async () => {
  await backends?.close();
});

async function allJobs(b: Backends, tenant: string): Promise<Job[]> {
  const jobs: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await b.store.listJobs({ tenant, limit: 100, ...(cursor ? { cursor } : {}) });
    jobs.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return jobs;
}

describe(`injected faults around the real ${profile} adapters`, () => {
  it(`loses nothing and duplicates nothing across ${jobCount} jobs`, async () => {
    const dataDir = tempDir();
    await prepareProfile(dataDir);
    const env = profileEnv(dataDir);
    // The AWS SDK reads credentials and region from this process's environment.
    for (const [name, value] of Object.entries(env)) if (name.startsWith('AWS_')) process.env[name] = value;
    const config = loadConfig({ dataDir, jobsModule: fixturesModule }, { ...process.env, ...fastEnv, ...env });
    backends = await openBackends(config);
    const real = backends;
    const counts = newCounts();
    const random = seeded(20_261_204);
    const store = withStoreFaults(real.store, random, faultRate, counts);
    const queue = withQueueFaults(real.queue, random, faultRate, counts);
    const registry = await loadRegistry(fixturesModule);
    const app = createApp({
      store,
      keys: real.keys,
      queue,
      artifacts: real.artifacts,
      registry,
      clock: systemClock,
      logger: silentLogger,
      maxUploadBytes: 1 << 20,
      maxJsonBodyBytes: 1 << 16,
      artifactDownloads: 'stream',
      presignSeconds: 300,
      isDraining: () => false,
    });
    const tenant = 'faults';
    const { key } = await issueApiKey(real.keys, tenant, null);
    const shutdown = new AbortController();
    setMaxListeners(64, shutdown.signal);
    const executor = createInlineExecutor({ registry, artifacts: real.artifacts });
    const pollers = ['w1', 'w2'].map((workerId) =>
      startPoller({
        queue,
        concurrency: 16,
        visibilityTimeoutSeconds: 1,
        waitTimeSeconds: 1,
        logger: silentLogger,
        // As the runtime does: a queue in the store's database claims in the receive (the
        // embedded profile, where the jobs table is the queue); other queues ignore it.
        claim: { workerId, leaseMs: 1000 },
        process: (delivery) =>
          processJob(delivery, {
            store,
            queue,
            artifacts: real.artifacts,
            executor,
            registry,
            clock: systemClock,
            logger: silentLogger,
            workerId,
            leaseMs: 1000,
            heartbeatMs: 250,
            shutdown: shutdown.signal,
          }),
      }),
    );
    const reconciler = startReconciler({ store, queue, intervalMs: 200, wakeIdleMs: 1500, logger: silentLogger });

    // A client that retries 503s with its Idempotency-Key, as the API tells it to.
    let retriedSubmits = 0;
    const submit = async (i: number) => {
      for (;;) {
        const response = await app.request('/v1/jobs', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': `order-${i}` },
          body: JSON.stringify({ type: 'test.sleep', input: { ms: i % 5 }, maxAttempts: 10 }),
        });
        if (response.status === 202 || response.status === 200) return ((await response.json()) as { id: string }).id;
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        retriedSubmits += 1;
      }
    };
    const ids: string[] = [];
    for (let i = 0; i < jobCount; i += 25) ids.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => submit(i + j)))));
    expect(new Set(ids).size).toBe(jobCount);

    const final = await waitUntil(
      async () => {
        const jobs = await allJobs(real, tenant);
        return jobs.every((j) => j.status === 'succeeded' || j.status === 'failed' || j.status === 'cancelled') ? jobs : undefined;
      },
      240_000,
      1000,
    );
    await Promise.all(pollers.map((p) => p.stopReceiving()));
    await Promise.all(pollers.map((p) => p.waitForIdle(5000)));
    await reconciler.stop();

    const listed = new Set(final.map((j) => j.id));
    const unlisted = ids.filter((id) => !listed.has(id));
    if (unlisted.length > 0) {
      const stored = await Promise.all(unlisted.map((id) => real.store.getJob(id)));
      process.stderr.write(`not listed: ${JSON.stringify(stored.map((j) => j && { id: j.id, status: j.status, createdAt: j.createdAt }))}\n`);
    }
    expect(unlisted).toEqual([]);
    expect(final).toHaveLength(jobCount);
    expect(final.filter((j) => j.status !== 'succeeded').map((j) => [j.id, j.status, j.error])).toEqual([]);
    for (const job of final) {
      const messages = (await real.store.getLogs(job.id)).map((l) => l.message);
      expect(messages.filter((m) => m === 'queued')).toHaveLength(1);
      expect(messages.filter((m) => m === 'succeeded')).toHaveLength(1);
      expect(job.artifacts.map((a) => a.name)).toEqual(['out.txt']);
      const artifact = await real.artifacts.get(job.artifacts[0]?.key as string);
      const chunks: Buffer[] = [];
      for await (const chunk of artifact?.body ?? []) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(`${job.id}\n`);
    }
    for (const [fault, count] of Object.entries(counts)) expect(count, `${fault} was never injected`).toBeGreaterThan(0);
    expect(retriedSubmits).toBeGreaterThan(0);
    process.stderr.write(`faults (${profile}): ${JSON.stringify({ ...counts, retriedSubmits })}\n`);
  }, 600_000);
});
