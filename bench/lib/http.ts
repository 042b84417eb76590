import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { Child } from './processes.js';
import { benchScript, jobshiftBin, root, startChild } from './processes.js';

export interface HttpFigures {
  requestsPerSecond: number;
  p99Ms: number;
}

/** `POST /v1/jobs` on `jobshift api` (embedded profile) and on the bare endpoint, with autocannon. */
export async function startHttpTargets() {
  const dataDir = mkdtempSync(join(tmpdir(), 'jobshift-bench-http-'));
  const env = { JOBSHIFT_LOG_LEVEL: 'warn', JOBSHIFT_LOG_FORMAT: 'json' };
  const apiKey = execFileSync(process.execPath, [jobshiftBin, 'keys', 'create', '--tenant', 'bench', '--data-dir', dataDir], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  }).trim();
  const api = await startChild([jobshiftBin, 'api', '--data-dir', dataDir, '--port', '0', '--log-level', 'info'], env, /API listening on/);
  const bare = await startChild(benchScript('bare-server'), {}, /listening on/);
  const urlOf = (child: Child) => /(http:\/\/[^"\s]+)/.exec(child.line)?.[1] as string;
  const body = JSON.stringify({ type: 'document.pdf', input: { title: 'Bench', markdown: '# Hello\n\nA short document.' } });
  const hit = async (url: string, seconds: number, headers: Record<string, string>): Promise<HttpFigures> => {
    const result = await autocannon({
      url: `${url}/v1/jobs`,
      method: 'POST',
      connections: 50,
      duration: seconds,
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx answers and ${result.errors} errors`);
    return { requestsPerSecond: Math.round(result.requests.average), p99Ms: result.latency.p99 };
  };
  return {
    jobshift: (seconds: number) => hit(urlOf(api), seconds, { authorization: `Bearer ${apiKey}` }),
    bare: (seconds: number) => hit(urlOf(bare), seconds, {}),
    async close() {
      await Promise.all([api.stop(), bare.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
