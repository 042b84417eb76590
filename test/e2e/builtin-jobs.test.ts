import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractPdfText } from '../../src/jobs/harness.test-util.js';
import type { JobshiftProcess } from '../helpers/stack.js';
import { clientFor, runCli, startWithApi, stopProcess, tempDir } from '../helpers/stack.js';

let dev: { proc: JobshiftProcess; url: string };
let dataDir: string;
let key: string;

beforeAll(async () => {
  dataDir = tempDir();
  dev = await startWithApi('dev', dataDir);
  key = readFileSync(join(dataDir, 'dev-api-key'), 'utf8').trim();
});
afterAll(async () => {
  const { code } = await stopProcess(dev.proc);
  expect(code).toBe(0);
});

async function download(url: string, path: string): Promise<Buffer> {
  const response = await fetch(url + path, { headers: { authorization: `Bearer ${key}` } });
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('built-in job types end to end through the HTTP API', () => {
  it('the dev key file is private and the quick-start PDF works from the CLI', async () => {
    const { statSync } = await import('node:fs');
    expect(statSync(join(dataDir, 'dev-api-key')).mode & 0o777).toBe(0o600);
    expect(await dev.proc.waitFor(/API key/)).toContain(key);
    const out = tempDir('jobshift-cli-out-');
    const { stdout, stderr } = await runCli(
      ['submit', 'document.pdf', '--input', '{"title":"Hello","markdown":"# Hi"}', '--wait', '--download', out, '--data-dir', dataDir],
      { JOBSHIFT_URL: dev.url },
    );
    expect(JSON.parse(stdout)).toMatchObject({ pages: 1 });
    expect(stderr).toMatch(/100% succeeded/);
    const text = (await extractPdfText(readFileSync(join(out, 'document.pdf')))).join(' ');
    expect(text).toContain('Hello');
    expect(text).toContain('Hi');
  });

  it('document.pdf: extractable text', async () => {
    const client = clientFor(dev.url, key);
    const job = await client.submit({ type: 'document.pdf', input: { title: 'Report', markdown: '# Intro\n\nSome *text* and **bold**.\n\n- one\n- two' } });
    expect(job.status).toBe('queued');
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1, progress: { percent: 100 } });
    const artifact = done.artifacts[0];
    expect(artifact).toMatchObject({ name: 'document.pdf', contentType: 'application/pdf' });
    const pdf = await download(dev.url, artifact?.url as string);
    expect(pdf.length).toBe(artifact?.bytes);
    const text = (await extractPdfText(pdf)).join(' ');
    for (const word of ['Report', 'Intro', 'Some', 'text', 'bold', 'one', 'two', 'Page 1 of 1']) expect(text).toContain(word);
  });

  it('image.thumbnail: exact dimensions from an upload', async () => {
    const client = clientFor(dev.url, key);
    const source = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 40, b: 90 } } }).jpeg().toBuffer();
    const upload = await client.upload(source, 'image/jpeg');
    expect(upload).toMatchObject({ bytes: source.length, contentType: 'image/jpeg' });
    const job = await client.submit({ type: 'image.thumbnail', input: { source: { upload: upload.id }, width: 160, height: 90, fit: 'cover', format: 'webp' } });
    const done = await client.waitForJob(job.id);
    expect(done.status).toBe('succeeded');
    const image = await download(dev.url, done.artifacts[0]?.url as string);
    const meta = await sharp(image).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 160, 90]);
    expect(done.result).toEqual({ width: 160, height: 90, bytes: image.length });
  });

  it('csv.transform: aggregates checked against independently computed values', async () => {
    const client = clientFor(dev.url, key);
    const lines = ['city,temp'];
    const expected = new Map<string, number[]>();
    for (let i = 0; i < 3000; i++) {
      const city = ['oslo', 'lima', 'pune'][i % 3] as string;
      const temp = ((i * 17) % 40) - 5;
      lines.push(`${city},${temp}`);
      expected.set(city, [...(expected.get(city) ?? []), temp]);
    }
    const upload = await client.upload(Buffer.from(lines.join('\n')), 'text/csv');
    const job = await client.submit({
      type: 'csv.transform',
      input: { source: { upload: upload.id }, groupBy: ['city'], aggregates: [{ column: 'temp', fn: 'avg', as: 'mean' }, { column: 'temp', fn: 'max' }] },
    });
    const done = await client.waitForJob(job.id);
    expect(done).toMatchObject({ status: 'succeeded', result: { rowsIn: 3000, rowsOut: 3 } });
    const rows = parse(await download(dev.url, done.artifacts[0]?.url as string), { columns: true }) as Record<string, string>[];
    for (const [city, temps] of expected) {
      const row = rows.find((r) => r.city === city);
      expect(Number(row?.mean)).toBeCloseTo(temps.reduce((a, b) => a + b, 0) / temps.length, 9);
      expect(Number(row?.max_temp)).toBe(Math.max(...temps));
    }
  });
});
