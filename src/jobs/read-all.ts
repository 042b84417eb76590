import type { Readable } from 'node:stream';
import { NonRetryableError } from '../core/errors.js';

/** Buffers a stream, refusing anything larger than maxBytes. */
export async function readAll(body: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      body.destroy();
      throw new NonRetryableError(`${what} is larger than ${maxBytes} bytes`, 'input_too_large');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
