#!/usr/bin/env node
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(built)) {
  process.stderr.write('jobshift: dist/ is missing; run `npm ci` (or `npm run build`) first\n');
  process.exit(1);
}
await import(built.href);
