import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ArtifactInfo } from '../../core/define-job.js';
import { PayloadTooLargeError } from '../../core/errors.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { assertValidKey, bodyChunks } from '../../ports/artifact-body.js';
import { translateAwsError } from '../aws-errors.js';

export interface S3ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Multipart part size; memory per upload is about partSize × queueSize. @default 8 MiB */
  partSizeBytes?: number;
}

const metaKey = (key: string) => `_meta/${key}.json`;
const isMissing = (error: unknown) => {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound';
};

/**
 * ArtifactStore on S3. Bodies stream through a multipart upload (never whole in memory) while
 * their size and sha256 are computed; a small JSON sidecar under `_meta/` records them.
 */
export function createS3ArtifactStore(options: S3ArtifactStoreOptions): ArtifactStore {
  const { client, bucket } = options;

  const head = async (key: string): Promise<ArtifactInfo | null> => {
    assertValidKey(key);
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: metaKey(key) }));
      return JSON.parse(await (response.Body as { transformToString(): Promise<string> }).transformToString()) as ArtifactInfo;
    } catch (error) {
      if (isMissing(error)) return null;
      throw translateAwsError(error);
    }
  };

  return {
    async put(key, body, { contentType, maxBytes }) {
      assertValidKey(key);
      const hash = createHash('sha256');
      let bytes = 0;
      let tooLarge = false;
      const stream = new PassThrough();
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: stream, ContentType: contentType },
        partSize: options.partSizeBytes ?? 8 * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      });
      const feeding = (async () => {
        try {
          for await (const chunk of bodyChunks(body)) {
            bytes += chunk.byteLength;
            if (maxBytes !== undefined && bytes > maxBytes) {
              tooLarge = true;
              throw new PayloadTooLargeError(maxBytes);
            }
            hash.update(chunk);
            if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
          }
          stream.end();
        } catch (error) {
          await upload.abort().catch(() => {});
          stream.destroy(error as Error);
          throw error;
        }
      })();
      try {
        await Promise.all([feeding, upload.done()]);
      } catch (error) {
        await feeding.catch(() => {});
        if (tooLarge) throw new PayloadTooLargeError(maxBytes as number);
        throw translateAwsError(error);
      }
      const info: ArtifactInfo = { bytes, sha256: hash.digest('hex'), contentType };
      await client
        .send(new PutObjectCommand({ Bucket: bucket, Key: metaKey(key), Body: JSON.stringify(info), ContentType: 'application/json' }))
        .catch((error: unknown) => {
          throw translateAwsError(error);
        });
      return info;
    },

    head,

    async get(key) {
      const info = await head(key);
      if (!info) return null;
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { info, body: response.Body as Readable };
      } catch (error) {
        if (isMissing(error)) return null;
        throw translateAwsError(error);
      }
    },

    async deletePrefix(prefix) {
      assertValidKey(prefix.replace(/\/+$/, ''));
      for (const root of [prefix, `_meta/${prefix}`]) {
        let token: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root, ContinuationToken: token }));
          const objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
          if (objects.length > 0) await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
    },

    presignGet(key, { expiresSeconds, filename }) {
      assertValidKey(key);
      const command = new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: `attachment; filename="${filename}"` });
      return getSignedUrl(client, command, { expiresIn: expiresSeconds });
    },
  };
}
