import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ArtifactInfo } from '../../core/define-job.js';
import { PayloadTooLargeError } from '../../core/errors.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { assertValidKey, bodyChunks } from '../../ports/artifact-body.js';

/**
 * ArtifactStore on a local directory: `data/<key>` holds the bytes, `meta/<key>.json` the
 * content type, size and sha256. Writes go to a temporary file first and are renamed into
 * place, so a reader never sees half a file and a failed write leaves nothing behind.
 */
export function createFsArtifactStore(options: { rootDir: string }): ArtifactStore {
  const dataPath = (key: string) => join(options.rootDir, 'data', key);
  const metaPath = (key: string) => join(options.rootDir, 'meta', `${key}.json`);

  const head = async (key: string): Promise<ArtifactInfo | null> => {
    assertValidKey(key);
    try {
      return JSON.parse(await readFile(metaPath(key), 'utf8')) as ArtifactInfo;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  };

  return {
    async put(key, body, { contentType, maxBytes }) {
      assertValidKey(key);
      const target = dataPath(key);
      await mkdir(dirname(target), { recursive: true });
      const temp = `${target}.${randomUUID()}.partial`;
      const hash = createHash('sha256');
      let bytes = 0;
      const out = createWriteStream(temp);
      try {
        for await (const chunk of bodyChunks(body)) {
          bytes += chunk.byteLength;
          if (maxBytes !== undefined && bytes > maxBytes) throw new PayloadTooLargeError(maxBytes);
          hash.update(chunk);
          if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        }
        await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
        const info: ArtifactInfo = { bytes, sha256: hash.digest('hex'), contentType };
        await mkdir(dirname(metaPath(key)), { recursive: true });
        await writeFile(metaPath(key), JSON.stringify(info));
        await rename(temp, target);
        return info;
      } catch (error) {
        out.destroy();
        await rm(temp, { force: true });
        throw error;
      }
    },

    head,

    async get(key) {
      const info = await head(key);
      if (!info) return null;
      return { info, body: createReadStream(dataPath(key)) };
    },

    async deletePrefix(prefix) {
      const trimmed = prefix.replace(/\/+$/, '');
      assertValidKey(trimmed);
      await rm(dataPath(trimmed), { recursive: true, force: true });
      await rm(join(options.rootDir, 'meta', trimmed), { recursive: true, force: true });
    },
  };
}
