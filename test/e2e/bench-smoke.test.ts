import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { profile, root, tempDir } from '../helpers/stack.js';

// Timings are never asserted: this only checks that the harness runs every subject and writes a well-formed result.
const hasRedis = spawnSync('bash', ['-c', 'command -v redis-server']).status === 0;
const peersHere = Boolean(process.env.JOBSHIFT_TEST_DATABASE_URL) && (hasRedis || Boolean(process.env.CI));

describe.skipIf(profile !== 'embedded' || !peersHere)('npm run bench -- --quick (smoke)', () => {
  it('runs jobshift, BullMQ and pg-boss side by side and writes JSON and markdown results', async () => {
    const out = tempDir('jobshift-bench-');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', join(root, 'bench/run.ts'), '--quick', '--runs', '1', '--jobs', '60', '--out', out], {
      cwd: root,
      maxBuffer: 1 << 22,
    });
    const files = readdirSync(out);
    const json = files.find((f) => f.endsWith('.json')) as string;
    const result = JSON.parse(readFileSync(join(out, json), 'utf8')) as {
      measurements: { workload: string; subject: string; median: number; runs: number[] }[];
      versions: { postgres: string; redis: string };
      machine: { cpus: number };
    };
    const subjects = new Set(result.measurements.map((m) => m.subject));
    expect([...subjects].sort()).toEqual(['bullmq', 'jobshift-embedded', 'jobshift-postgres', 'pg-boss']);
    for (const m of result.measurements) {
      expect(m.runs).toHaveLength(1);
      expect(m.median).toBeGreaterThan(0);
    }
    expect(result.measurements.filter((m) => m.subject === 'bullmq').map((m) => m.workload)).toEqual([
      'enqueue awaited one by one',
      'enqueue 50 in flight',
      'enqueue bulk',
      'drain no-op, concurrency 1',
      'drain no-op, concurrency 10',
      'drain no-op, concurrency 100',
    ]);
    expect(result.versions.postgres).toMatch(/^\d+/);
    expect(result.versions.redis).toMatch(/^\d+/);
    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(markdown).toContain('| workload | jobshift-embedded | jobshift-postgres | bullmq | pg-boss | embedded ÷ BullMQ | embedded ÷ pg-boss |');
  }, 300_000);
});
