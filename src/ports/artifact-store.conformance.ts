import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '../core/errors.js';
import type { ArtifactStore } from './artifact-store.js';

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Deterministic pseudo-random bytes, generated chunk by chunk (never all in memory). */
function* bytes(total: number, chunkSize = 1 << 20): Generator<Buffer> {
  let seed = 7;
  for (let sent = 0; sent < total; sent += chunkSize) {
    const chunk = Buffer.alloc(Math.min(chunkSize, total - sent));
    for (let i = 0; i < chunk.length; i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      chunk.writeUInt32LE(seed, i - (i + 4 > chunk.length ? i + 4 - chunk.length : 0));
    }
    yield chunk;
  }
}

export function runArtifactStoreConformance(name: string, createStore: () => Promise<{ store: ArtifactStore; close(): Promise<void> }>): void {
  const withStore = (fn: (store: ArtifactStore) => Promise<void>) => async () => {
    const h = await createStore();
    try {
      await fn(h.store);
    } finally {
      await h.close();
    }
  };

  describe(`ArtifactStore conformance: ${name}`, () => {
    it('stores bytes with size, sha256 and content type', withStore(async (store) => {
      const info = await store.put('jobs/t1/job_1/1/hello.txt', 'hello', { contentType: 'text/plain' });
      expect(info).toEqual({ bytes: 5, sha256: createHash('sha256').update('hello').digest('hex'), contentType: 'text/plain' });
      expect(await store.head('jobs/t1/job_1/1/hello.txt')).toEqual(info);
      const got = await store.get('jobs/t1/job_1/1/hello.txt');
      expect((await readAll(got?.body as Readable)).toString()).toBe('hello');
      expect(await store.head('jobs/t1/job_1/1/missing.txt')).toBeNull();
      expect(await store.get('jobs/t1/job_1/1/missing.txt')).toBeNull();
    }));

    it('streams a 50 MB body in and out intact', withStore(async (store) => {
      const total = 50 * 1024 * 1024;
      const expected = createHash('sha256');
      for (const chunk of bytes(total)) expected.update(chunk);
      const info = await store.put('uploads/t1/big', Readable.from(bytes(total)), { contentType: 'application/octet-stream' });
      expect(info.bytes).toBe(total);
      expect(info.sha256).toBe(expected.digest('hex'));
      const got = await store.get('uploads/t1/big');
      if (!got) throw new Error('stored object not found');
      const hash = createHash('sha256');
      let read = 0;
      for await (const chunk of got.body) {
        hash.update(chunk as Buffer);
        read += (chunk as Buffer).length;
      }
      expect(read).toBe(total);
      expect(hash.digest('hex')).toBe(info.sha256);
    }));

    it('rejects a body over maxBytes and keeps nothing of it', withStore(async (store) => {
      await expect(store.put('uploads/t1/too-big', Readable.from(bytes(3 << 20)), { contentType: 'x/y', maxBytes: 1 << 20 })).rejects.toBeInstanceOf(
        PayloadTooLargeError,
      );
      expect(await store.head('uploads/t1/too-big')).toBeNull();
    }));

    it('deletes everything under a prefix and nothing else', withStore(async (store) => {
      await store.put('jobs/t1/job_2/1/a.txt', 'a', { contentType: 'text/plain' });
      await store.put('jobs/t1/job_2/2/a.txt', 'b', { contentType: 'text/plain' });
      await store.deletePrefix('jobs/t1/job_2/1/');
      expect(await store.head('jobs/t1/job_2/1/a.txt')).toBeNull();
      expect(await store.head('jobs/t1/job_2/2/a.txt')).not.toBeNull();
    }));

    it('refuses keys that could escape their folder', withStore(async (store) => {
      for (const key of ['../etc/passwd', 'jobs/../../x', '/abs', 'jobs//x', 'jobs/t1/.hidden']) {
        await expect(store.put(key, 'x', { contentType: 'text/plain' })).rejects.toBeInstanceOf(ValidationError);
      }
    }));
  });
}
