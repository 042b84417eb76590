import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
let startedHere = false;

/**
 * Starts the real peers (PostgreSQL, moto) the backend suites need, once per test run.
 * In CI they must start; on a developer machine without them, their suites are skipped
 * with a message saying how to install them (`bash scripts/services.sh install`).
 */
export function setup() {
  if (process.env.JOBSHIFT_TEST_SERVICES === 'off') return;
  try {
    execFileSync('bash', [join(root, 'scripts/services.sh'), 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
    startedHere = true;
    const env = execFileSync('bash', [join(root, 'scripts/services.sh'), 'env'], { encoding: 'utf8' });
    for (const line of env.trim().split('\n')) {
      const [name, value] = line.split(/=(.*)/s) as [string, string];
      process.env[name] ??= value;
    }
  } catch (error) {
    const message = `backend services did not start: ${(error as { stderr?: Buffer }).stderr?.toString() ?? String(error)}`;
    if (process.env.CI) throw new Error(message);
    process.stderr.write(`${message}\nPostgreSQL/AWS suites will be skipped; install them with: bash scripts/services.sh install\n`);
  }
}

export function teardown() {
  if (startedHere && process.env.JOBSHIFT_TEST_KEEP_SERVICES !== '1') {
    execFileSync('bash', [join(root, 'scripts/services.sh'), 'stop'], { stdio: 'ignore' });
  }
}
