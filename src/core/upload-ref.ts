import { z } from 'zod';

/** Schema for `{ "upload": "<id>" }`: a reference to a file sent earlier to POST /v1/uploads. */
export const uploadRef = () =>
  z
    .object({ upload: z.string().regex(/^upl_[0-9a-z]{26}$/, 'expected an upload id returned by POST /v1/uploads') })
    .strict();

/** Finds every upload reference in a parsed input, with its dotted path. */
export function findUploadRefs(value: unknown, path = 'input'): { path: string; uploadId: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => findUploadRefs(item, `${path}.${i}`));
  if (typeof value !== 'object' || value === null) return [];
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]?.[0] === 'upload' && typeof entries[0][1] === 'string') {
    return [{ path: `${path}.upload`, uploadId: entries[0][1] }];
  }
  return entries.flatMap(([key, child]) => findUploadRefs(child, `${path}.${key}`));
}
