// Runs the end-to-end suite against one backend profile (postgres or aws). Without the real
// peers installed, a developer run skips the profile with a message; CI never skips.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const profile = process.argv[2];
if (profile !== 'postgres' && profile !== 'aws') {
  process.stderr.write('usage: node scripts/run-profile.mjs postgres|aws\n');
  process.exit(2);
}
const root = join(import.meta.dirname, '..');
try {
  execFileSync('bash', [join(root, 'scripts/services.sh'), 'start'], { stdio: 'pipe' });
} catch (error) {
  if (process.env.CI) throw error;
  process.stderr.write(`skipping the ${profile} profile: its services are not installed here (bash scripts/services.sh install)\n`);
  process.exit(0);
}
const vitest = join(root, 'node_modules/vitest/vitest.mjs');
// The emulator serves every request on one core (Python's GIL), and it is what the aws profile's
// tests wait on: two test files at once only split it between them, doubling every request's
// latency, which squeezes the leases and drain budgets those tests measure. One file at a time.
const args = ['run', 'test/e2e', ...(profile === 'aws' ? ['--maxWorkers=1'] : [])];
const result = spawnSync(process.execPath, [vitest, ...args], { stdio: 'inherit', env: { ...process.env, JOBSHIFT_TEST_PROFILE: profile } });
process.exit(result.status ?? 1);
