import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, profile, root, stopProcess, tempDir, waitUntil } from '../helpers/stack.js';
import { spawn } from 'node:child_process';

/**
 * No Docker engine runs here, so this replays the Dockerfile itself: every stage in its own
 * directory, its COPY steps from the build context or an earlier stage, its RUN steps in its
 * WORKDIR with its ENV; then starts the runtime stage the way the image's ENTRYPOINT would.
 */
interface Stage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
}

/** Steps that change the machine outside the stage directory are not replayed; each says why. */
const notReplayed: Record<string, string> = {
  'mkdir -p /data && chown node:node /data': 'creates /data on the host; the test gives the process its own data directory instead',
};

function logicalLines(text: string): string[] {
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

function replayDockerfile(buildDir: string): { stages: Map<string, Stage>; runtime: Stage; skipped: string[] } {
  const stages = new Map<string, Stage>();
  const skipped: string[] = [];
  let current: Stage | undefined;
  const at = (stage: Stage, path: string) => join(stage.root, path.startsWith('/') ? path : join(stage.workdir, path));
  for (const line of logicalLines(readFileSync(join(root, 'Dockerfile'), 'utf8'))) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        const name = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? `stage${stages.size}`;
        current = { name, root: join(buildDir, name), workdir: '/', env: {} };
        mkdirSync(current.root, { recursive: true });
        stages.set(name, current);
        break;
      }
      case 'WORKDIR':
        if (!current) throw new Error('WORKDIR before FROM');
        current.workdir = args;
        mkdirSync(at(current, '.'), { recursive: true });
        break;
      case 'ENV':
        if (!current) throw new Error('ENV before FROM');
        for (const [, key, value] of args.matchAll(/(\w+)=(\S+)/g)) current.env[key as string] = value as string;
        break;
      case 'COPY': {
        if (!current) throw new Error('COPY before FROM');
        const parts = args.split(/\s+/).filter((p) => !p.startsWith('--chown'));
        const fromStage = parts[0]?.startsWith('--from=') ? stages.get(parts.shift()?.slice(7) ?? '') : undefined;
        const dest = parts.pop() as string;
        for (const source of parts) {
          const from = fromStage ? join(fromStage.root, source) : join(root, source);
          const to = dest.endsWith('/') ? join(at(current, dest), source.split('/').pop() as string) : at(current, dest);
          mkdirSync(dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true, filter: (src) => !src.includes(`${join(root, 'node_modules')}`) });
        }
        break;
      }
      case 'RUN': {
        if (!current) throw new Error('RUN before FROM');
        if (notReplayed[args]) {
          skipped.push(args);
          break;
        }
        execFileSync('bash', ['-ec', args], { cwd: at(current, '.'), env: { ...process.env, ...current.env, CI: 'true' }, stdio: 'pipe' });
        break;
      }
      default:
        break;
    }
  }
  const runtime = stages.get('runtime');
  if (!runtime) throw new Error('the Dockerfile has no runtime stage');
  return { stages, runtime, skipped };
}

const running: JobshiftProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => stopProcess(p)));
});

describe.skipIf(profile !== 'embedded')('the Dockerfile, replayed without Docker', () => {
  it('builds, installs production dependencies only, and the runtime stage serves and runs jobs', async () => {
    const buildDir = tempDir('jobshift-docker-');
    const { runtime, skipped } = replayDockerfile(buildDir);
    expect(skipped).toEqual(Object.keys(notReplayed));
    const app = join(runtime.root, 'app');
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(true);
    for (const devOnly of ['typescript', 'vitest', '@biomejs/biome', 'pdfjs-dist']) expect(existsSync(join(app, 'node_modules', devOnly))).toBe(false);

    const dataDir = tempDir('jobshift-docker-data-');
    const start = (command: string) => {
      const child = spawn(process.execPath, [join(app, 'bin/jobshift.js'), command], {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', ...runtime.env, JOBSHIFT_DATA_DIR: dataDir, JOBSHIFT_PORT: '0', JOBSHIFT_HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c));
      child.stderr.on('data', (c: Buffer) => (output += c));
      const proc: JobshiftProcess = {
        child,
        output: () => output,
        exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
        waitFor: (pattern, timeoutMs = 30_000) =>
          waitUntil(async () => output.split('\n').find((l) => pattern.test(l)), timeoutMs, 100),
      };
      running.push(proc);
      return proc;
    };
    const api = start('api');
    const url = /(http:\/\/[^"\s]+)/.exec(await api.waitFor(/API listening on/))?.[1] as string;
    const worker = start('worker');
    await worker.waitFor(/worker started/);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const port = new URL(url).port;
    execFileSync(process.execPath, ['-e', `fetch('http://127.0.0.1:'+(process.env.JOBSHIFT_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`], {
      env: { ...process.env, JOBSHIFT_PORT: port },
    });

    const key = execFileSync(process.execPath, [join(app, 'bin/jobshift.js'), 'keys', 'create', '--tenant', 'image'], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', ...runtime.env, JOBSHIFT_DATA_DIR: dataDir },
      encoding: 'utf8',
    }).trim();
    const client = clientFor(url, key);
    const job = await client.submit({ type: 'document.pdf', input: { title: 'From the image', markdown: 'built without docker' } });
    expect(await client.waitForJob(job.id)).toMatchObject({ status: 'succeeded', result: { pages: 1 } });
    const sharpJob = await client.upload(readFileSync(join(root, 'test/fixtures/pixel.png')), 'image/png');
    const thumb = await client.submit({ type: 'image.thumbnail', input: { source: { upload: sharpJob.id }, width: 8, height: 8 } });
    expect(await client.waitForJob(thumb.id)).toMatchObject({ status: 'succeeded', result: { width: 8, height: 8 } });
  }, 600_000);
});
