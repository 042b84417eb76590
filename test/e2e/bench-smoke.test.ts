import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { profile, root, tempDir } from '../helpers/stack.js';

// Timings are never asserted: this only checks that the harness runs every subject and writes a well-formed result.
const hasRedis = spawnSync('bash', ['-c', 'command -v redis-server']).status === 0;
const peersHere = Boolean(process.env.JOBSHIFT_TEST_DATABASE_URL) && (hasRedis || Boolean(process.env.CI));

describe.skipIf(profile !== 'embedded' || !peersHere)('npm run bench -- --quick (smoke)', () => {
  it('runs jobshift, BullMQ, pg-boss and graphile-worker side by side and writes JSON and markdown results', async () => {
    const out = tempDir('jobshift-bench-');
    const args = ['--quick', '--runs', '1', '--jobs', '60', '--seconds', '1', '--scale', '200,400', '--work-jobs', '2', '--out', out];
    await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'bench/run.ts'), ...args], { cwd: root, maxBuffer: 1 << 22 });
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json')) as string;
    const result = JSON.parse(readFileSync(join(out, json), 'utf8')) as {
      measurements: { workload: string; subject: string; unit: string; median: number; runs: number[] }[];
      versions: { postgres: string; redis: string };
      machine: { cpus: number };
      settings: { scaleSizes: number[] };
    };
    const subjects = new Set(result.measurements.map((m) => m.subject));
    expect([...subjects].sort()).toEqual(['bare-hono', 'bullmq', 'bullmq-fsync', 'graphile-worker', 'jobshift-embedded', 'jobshift-postgres', 'pg-boss']);
    for (const m of result.measurements) {
      expect(m.runs).toHaveLength(1);
      expect(m.median).toBeGreaterThan(0);
      expect(['jobs/s', 'req/s', 'ms', 'MiB']).toContain(m.unit);
    }
    const peerWorkloads = [
      'enqueue awaited one by one',
      'enqueue 50 in flight',
      'enqueue bulk (1,000 per call)',
      'drain no-op, concurrency 1',
      'drain no-op, concurrency 10',
      'drain no-op, concurrency 100',
      'submit→start p50 at 200 jobs/s',
      'submit→start p95 at 200 jobs/s',
      'submit→start p99 at 200 jobs/s',
      'claim+complete per job, concurrency 1, 200 queued',
      'drain no-op, concurrency 100, 200 queued',
      'claim+complete per job, concurrency 1, 400 queued',
      'drain no-op, concurrency 100, 400 queued',
    ];
    for (const peer of ['bullmq', 'pg-boss', 'graphile-worker', 'jobshift-postgres']) {
      expect(result.measurements.filter((m) => m.subject === peer).map((m) => m.workload)).toEqual(peerWorkloads);
    }
    const embedded = result.measurements.filter((m) => m.subject === 'jobshift-embedded').map((m) => m.workload);
    for (const workload of [
      ...peerWorkloads,
      'HTTP POST /v1/jobs, 50 connections',
      'HTTP POST /v1/jobs p99, 50 connections',
      'real work: document.pdf, 1 worker process',
      'real work: image.thumbnail, 2 worker processes',
      'peak worker RSS: document.pdf, 2 worker processes',
    ]) {
      expect(embedded).toContain(workload);
    }
    // A worker that renders PDFs holds more than a bare Node process, and less than the machine.
    const rss = result.measurements.find((m) => m.workload === 'peak worker RSS: document.pdf, 1 worker process')?.median as number;
    expect(rss).toBeGreaterThan(40);
    expect(rss).toBeLessThan(4096);
    expect(result.versions.postgres).toMatch(/^\d+/);
    expect(result.versions.redis).toMatch(/^\d+/);
    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(markdown).toContain(
      '| workload | unit | jobshift-embedded | jobshift-postgres | bullmq | bullmq-fsync | pg-boss | graphile-worker | bare-hono | embedded vs BullMQ | embedded vs BullMQ fsync | embedded vs pg-boss | embedded vs graphile-worker |',
    );
    // The durable BullMQ variant leaves Redis as it found it.
    expect(execFileSync('redis-cli', ['-p', '56379', 'config', 'get', 'appendonly'], { encoding: 'utf8' })).toContain('no');
    expect(markdown).toContain('## Targets (embedded profile)');
    const svg = files.find((f) => f.endsWith('.svg')) as string;
    expect(markdown).toContain(`![jobshift-embedded vs peers](${svg})`);
    const chart = readFileSync(join(out, svg), 'utf8');
    expect(chart.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(chart).toContain('enqueue 50 in flight vs bullmq');
    expect(chart.trim().endsWith('</svg>')).toBe(true);
    expect(markdown).toMatch(/\| HTTP submit ≥ 50% of the bare endpoint \| [\d,]+ vs [\d,]+ req\/s = \d+% \| (yes|\*\*no\*\*) \|/);
  }, 300_000);
});
