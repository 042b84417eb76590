import { ValidationError } from '../core/errors.js';

/** Opaque list cursors: base64url JSON of the sort key of the last item. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): [number, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('cursor', 'cursor: expected a value returned as nextCursor by a previous list call');
}
