import type { Job } from '../core/job.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The public shape of a job; storage keys and lease internals stay inside. */
export function toJobResource(job: Job) {
  const base = `/v1/jobs/${job.id}/artifacts/`;
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    input: job.input,
    attempts: job.attempt,
    maxAttempts: job.maxAttempts,
    timeoutSeconds: job.timeoutSeconds,
    cancelRequested: job.cancelRequested,
    progress: job.progress ?? { percent: 0, message: null },
    result: job.result,
    error: job.error,
    artifacts: job.artifacts.map((a) => ({
      name: a.name,
      bytes: a.bytes,
      contentType: a.contentType,
      sha256: a.sha256,
      url: base + encodeURIComponent(a.name),
    })),
    createdAt: iso(job.createdAt) as string,
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    runAt: iso(job.runAt) as string,
  };
}

/** Stable JSON (sorted keys) so equal requests hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
