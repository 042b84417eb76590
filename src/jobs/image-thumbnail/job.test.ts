import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../core/errors.js';
import { createJobHarness } from '../harness.test-util.js';

async function sourceImage(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = 128;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

describe('image.thumbnail', () => {
  it.each([
    ['cover', 'png', 100, 100, 100, 100],
    ['contain', 'jpeg', 120, 80, 120, 80],
    ['inside', 'webp', 100, 100, 100, 75],
  ] as const)('fit %s as %s gives %dx%d → %dx%d', async (fit, format, width, height, expectedW, expectedH) => {
    const h = createJobHarness();
    const upload = await h.upload(await sourceImage(640, 480), 'image/png');
    const { result, artifacts } = await h.run('image.thumbnail', { source: { upload }, width, height, fit, format });
    expect(artifacts.map((a) => a.name)).toEqual([`thumbnail.${format}`]);
    const bytes = await h.read(artifacts[0]?.key as string);
    const meta = await sharp(bytes).metadata();
    expect(meta.format).toBe(format);
    expect([meta.width, meta.height]).toEqual([expectedW, expectedH]);
    expect(result).toEqual({ width: expectedW, height: expectedH, bytes: bytes.length });
  });

  it('keeps the aspect ratio when only width is given, png by default', async () => {
    const h = createJobHarness();
    const upload = await h.upload(await sourceImage(400, 200), 'image/png');
    const { result } = await h.run('image.thumbnail', { source: { upload }, width: 100 });
    expect(result).toMatchObject({ width: 100, height: 50 });
  });

  it('fails without retry on a file that is not an image, and rejects bad input', async () => {
    const h = createJobHarness();
    const upload = await h.upload('definitely not an image', 'text/plain');
    await expect(h.run('image.thumbnail', { source: { upload }, width: 10 })).rejects.toBeInstanceOf(NonRetryableError);
    await expect(h.run('image.thumbnail', { source: { upload }, width: 0 })).rejects.toThrow(/width/);
    await expect(h.run('image.thumbnail', { source: { upload }, width: 10, fit: 'fill' })).rejects.toThrow(/fit/);
    await expect(h.run('image.thumbnail', { source: { upload }, width: 10, dpi: 300 })).rejects.toThrow(/dpi/);
  });
});
