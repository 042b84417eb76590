import { ValidationError } from '../core/errors.js';
import type { ArtifactBody } from '../core/define-job.js';

const segmentPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Keys are `/`-separated segments of safe characters; no `..`, no absolute paths. */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  if (segments.length === 0 || segments.some((s) => !segmentPattern.test(s) || s.includes('..'))) {
    throw new ValidationError('key', `invalid storage key '${key}'`, 'invalid_key');
  }
}

/** Every accepted body shape as a stream of byte chunks. */
export async function* bodyChunks(body: ArtifactBody): AsyncIterable<Uint8Array> {
  if (typeof body === 'string') {
    yield Buffer.from(body);
  } else if (body instanceof Uint8Array) {
    yield body;
  } else {
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    }
  }
}
