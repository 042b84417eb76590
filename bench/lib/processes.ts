import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

/** The project root: the bench runs compiled (dist-bench/bench/...) or as TypeScript (bench/...). */
export const root = (() => {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin/jobshift.js'))) return dir;
  }
  throw new Error(`bench: no project root above ${import.meta.dirname}`);
})();

/** Node arguments that run a sibling bench script (`bench/<name>`) the way this one runs: compiled, or through tsx. */
export function benchScript(name: string): string[] {
  const ext = extname(import.meta.filename);
  const file = join(import.meta.dirname, '..', `${name}${ext}`);
  return ext === '.ts' ? ['--import', 'tsx', file] : [file];
}

export interface Child {
  child: ChildProcess;
  /** The first output line matching `pattern`. */
  line: string;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRssBytes(): number;
  stop(): Promise<void>;
}

/** Starts `node <args>` and resolves once a line of its output matches `ready`. */
export async function startChild(args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 30_000): Promise<Child> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: not ready within ${timeoutMs} ms:\n${output.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const found = output.split('\n').find((l) => ready.test(l));
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${output.slice(-2000)}`));
    });
  });
  // Keep draining output so the child never blocks on a full pipe.
  return {
    child,
    line,
    peakRssBytes() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export const jobshiftBin = join(root, 'bin/jobshift.js');
