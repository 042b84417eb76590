// Re-renders a result's markdown table and chart from its JSON (after a change to the report).
// Usage: node --import tsx bench/render.ts bench/results/<timestamp>.json [--latest]
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { renderChart, renderMarkdown } from './lib/report.js';

const [file, flag] = process.argv.slice(2);
if (!file?.endsWith('.json')) {
  process.stderr.write('usage: node --import tsx bench/render.ts bench/results/<timestamp>.json [--latest]\n');
  process.exit(2);
}
const result = JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof renderMarkdown>[0] & { subjects: Record<string, unknown> };
const subjects = Object.keys(result.subjects);
const stamp = basename(file, '.json');
const chart = renderChart(result, subjects);
const markdown = renderMarkdown(result, subjects) + (chart ? `\n![jobshift-embedded vs peers](${stamp}.svg)\n` : '');
if (chart) writeFileSync(join(dirname(file), `${stamp}.svg`), chart);
writeFileSync(join(dirname(file), `${stamp}.md`), markdown);
if (flag === '--latest') writeFileSync(join(dirname(file), 'latest.md'), markdown);
process.stdout.write(markdown);
