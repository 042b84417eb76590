import { z } from 'zod';
import { defineJob } from '../../core/define-job.js';
import { NonRetryableError } from '../../core/errors.js';
import { uploadRef } from '../../core/upload-ref.js';
import { readAll } from '../read-all.js';

const dimension = z.number().int().min(1).max(10_000);

export const imageThumbnailInput = z
  .object({
    source: uploadRef(),
    width: dimension,
    height: dimension.optional(),
    fit: z.enum(['cover', 'contain', 'inside']).default('cover'),
    format: z.enum(['png', 'jpeg', 'webp']).default('png'),
  })
  .strict();

const contentTypes = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' } as const;
const maxSourceBytes = 100 * 1024 * 1024;

/** Resizes an uploaded image with sharp (libvips); cover/contain give exactly width × height. */
export const imageThumbnail = defineJob({
  type: 'image.thumbnail',
  description: 'Resize an uploaded image (artifact thumbnail.<format>).',
  input: imageThumbnailInput,
  timeoutSeconds: 60,
  maxAttempts: 3,
  needs: { expectedDurationSeconds: 2, memoryMb: 1024, bursty: true },
  async handler({ source, width, height, fit, format }, ctx) {
    const { default: sharp } = await import('sharp');
    const upload = await ctx.uploads.open(source.upload);
    const bytes = await readAll(upload.body, maxSourceBytes, 'source image');
    ctx.progress(30, 'decoding');
    let output: { data: Buffer; info: { width: number; height: number } };
    try {
      const background = format === 'jpeg' ? { r: 255, g: 255, b: 255, alpha: 1 } : { r: 0, g: 0, b: 0, alpha: 0 };
      output = await sharp(bytes, { failOn: 'error' })
        .rotate()
        .resize({ width, ...(height === undefined ? {} : { height }), fit, background })
        .toFormat(format)
        .toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw new NonRetryableError(`input.source: cannot read the upload as an image (${(error as Error).message})`, 'invalid_image');
    }
    ctx.progress(80, 'writing');
    const info = await ctx.artifacts.write(`thumbnail.${format}`, output.data, contentTypes[format]);
    return { width: output.info.width, height: output.info.height, bytes: info.bytes };
  },
});
