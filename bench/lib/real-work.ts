import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { submitJobs } from '../../src/api/submissions.js';
import { loadConfig } from '../../src/config/config.js';
import { databasePath, openBackends } from '../../src/config/compose.js';
import { systemClock } from '../../src/core/clock.js';
import { newId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/core/logger.js';
import { createRegistry } from '../../src/core/registry.js';
import { builtinJobs } from '../../src/jobs/index.js';
import { artifactKeys } from '../../src/ports/artifact-store.js';
import type { Child } from './processes.js';
import { jobshiftBin, startChild } from './processes.js';

export type RealJobType = 'document.pdf' | 'image.thumbnail';

const markdown = Array.from(
  { length: 40 },
  (_, i) => `## Section ${i + 1}\n\nSome text for the section, with **bold** and _italic_ words.\n\n- one\n- two\n- three\n`,
).join('\n');

/**
 * Real work on the embedded profile: `processes` × `jobshift worker` (default settings) on one
 * data dir; once every worker is up and warm (each handler thread has run a job), `jobs` jobs are
 * submitted in one batch. Returns jobs/s from that submit to the last success, and the largest
 * peak RSS (VmHWM) among the workers.
 */
export async function realWork(type: RealJobType, jobs: number, processes: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'jobshift-bench-work-'));
  const config = loadConfig({ dataDir }, {});
  const backends = await openBackends(config);
  const workers: Child[] = [];
  try {
    let input: unknown = { title: 'Benchmark report', markdown };
    if (type === 'image.thumbnail') {
      const uploadId = newId('upl');
      const photo = await sharp({ create: { width: 2400, height: 1600, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
        .jpeg({ quality: 85 })
        .toBuffer();
      await backends.artifacts.put(artifactKeys.upload('bench', uploadId), photo, { contentType: 'image/jpeg' });
      input = { source: { upload: uploadId }, width: 320, height: 240 };
    }
    for (let p = 0; p < processes; p++) {
      workers.push(await startChild([jobshiftBin, 'worker', '--data-dir', dataDir], { JOBSHIFT_LOG_FORMAT: 'json', JOBSHIFT_LOG_LEVEL: 'info' }, /worker started/));
    }
    const counter = new Database(databasePath(config), { readonly: true });
    const count = counter.prepare(`SELECT status, count(*) AS n FROM jobs GROUP BY status`);
    const deps = { ...backends, registry: createRegistry(builtinJobs), clock: systemClock, logger: silentLogger };
    const succeeded = async (total: number, since: number) => {
      for (;;) {
        const byStatus = Object.fromEntries((count.all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));
        if (byStatus.failed) throw new Error(`${byStatus.failed} ${type} jobs failed`);
        if ((byStatus.succeeded ?? 0) >= total) return;
        if (performance.now() - since > 600_000) throw new Error(`${type}: not done within 10 minutes`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const submit = (n: number) => submitJobs(deps, 'bench', Array.from({ length: n }, () => ({ body: { type, input } })), { batch: true });
    // Warm up: every handler thread of every worker loads its libraries on its first job.
    const warmUp = processes * config.concurrency * 2;
    await submit(warmUp);
    await succeeded(warmUp, performance.now());
    const started = performance.now();
    await submit(jobs);
    await succeeded(warmUp + jobs, started);
    const seconds = (performance.now() - started) / 1000;
    counter.close();
    const peakRssBytes = Math.max(...workers.map((w) => w.peakRssBytes()));
    return { jobsPerSecond: jobs / seconds, peakRssBytes, concurrency: config.concurrency };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await backends.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
