// npm runs `prepare` on every `npm ci`: build the TypeScript when the compiler is installed
// (a development install), and do nothing in a production install (`npm ci --omit=dev`).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  process.exit(0);
}
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
