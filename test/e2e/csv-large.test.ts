import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { profile, root } from '../helpers/stack.js';

describe.skipIf(profile !== 'embedded')('csv.transform on a 200 MB input (handler only; backend-independent)', () => {
  it('streams in bounded memory (a 64 MB heap cap) and reports progress', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--max-old-space-size=64', '--import', 'tsx', join(root, 'test/fixtures/large-csv.ts'), String(200 * 1024 * 1024)],
      { cwd: root, maxBuffer: 1 << 20 },
    );
    const outcome = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      result: { rowsIn: number; rowsOut: number };
      progressUpdates: number;
      lastPercent: number;
      maxRssBytes: number;
    };
    expect(outcome.result.rowsOut).toBe(5);
    expect(outcome.result.rowsIn).toBeGreaterThan(2_500_000);
    expect(outcome.progressUpdates).toBeGreaterThan(50);
    expect(outcome.lastPercent).toBe(100);
    process.stderr.write(`csv.transform 200 MB: ${outcome.result.rowsIn} rows, peak RSS ${Math.round(outcome.maxRssBytes / 2 ** 20)} MiB\n`);
  }, 300_000);
});
