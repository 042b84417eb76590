import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createFsArtifactStore } from '../adapters/fs/fs-artifact-store.js';
import type { ArtifactBody } from '../core/define-job.js';
import { newId } from '../core/ids.js';
import type { Job, JobProgress } from '../core/job.js';
import { createRegistry } from '../core/registry.js';
import { artifactKeys } from '../ports/artifact-store.js';
import { createInlineExecutor } from '../worker/inline-executor.js';
import { builtinJobs } from './index.js';

/** Runs built-in handlers in-process against a temporary artifact directory. */
export function createJobHarness() {
  const artifacts = createFsArtifactStore({ rootDir: mkdtempSync(join(tmpdir(), 'jobshift-jobs-')) });
  const executor = createInlineExecutor({ registry: createRegistry(builtinJobs), artifacts });
  return {
    artifacts,
    async upload(body: ArtifactBody, contentType: string): Promise<string> {
      const id = newId('upl');
      await artifacts.put(artifactKeys.upload('t1', id), body, { contentType });
      return id;
    },
    async run(type: string, input: unknown, signal: AbortSignal = new AbortController().signal) {
      const now = Date.now();
      const job: Job = {
        id: newId('job'),
        tenant: 't1',
        type,
        status: 'running',
        input,
        attempt: 1,
        attemptsCharged: 1,
        maxAttempts: 3,
        timeoutSeconds: 60,
        progress: null,
        result: null,
        error: null,
        artifacts: [],
        cancelRequested: false,
        workerId: 'test',
        leaseExpiresAt: now + 60_000,
        createdAt: now,
        updatedAt: now,
        startedAt: now,
        finishedAt: null,
        runAt: now,
      };
      const progress: JobProgress[] = [];
      const outcome = await executor.run({ job, signal, onProgress: (p) => progress.push(p), onLog: () => {} });
      return { ...outcome, progress };
    },
    async read(key: string): Promise<Buffer> {
      const found = await artifacts.get(key);
      if (!found) throw new Error(`no artifact at ${key}`);
      const chunks: Buffer[] = [];
      for await (const chunk of found.body as Readable) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/** Text of every page, via pdf.js (an independent PDF reader). */
export async function extractPdfText(pdf: Uint8Array): Promise<string[]> {
  const { getDocument } = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await getDocument({ data: new Uint8Array(pdf), useSystemFonts: false, isEvalSupported: false, verbosity: 0 }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    pages.push(content.items.map((item) => ('str' in item ? item.str : '')).join(' '));
  }
  await doc.destroy();
  return pages;
}
