import { Readable } from 'node:stream';

export interface Problem {
  status: number;
  code: string;
  detail: string;
  field?: string;
  requestId?: string;
}

/** An error answer from the API, with its problem+json body. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(`${problem.detail} (${status} ${problem.code}${problem.field ? `, field ${problem.field}` : ''})`);
    this.name = 'ApiError';
  }
}

export interface JobArtifact {
  name: string;
  bytes: number;
  contentType: string;
  sha256: string;
  url: string;
}

export interface JobView {
  id: string;
  type: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  input: unknown;
  attempts: number;
  maxAttempts: number;
  timeoutSeconds: number;
  cancelRequested: boolean;
  progress: { percent: number; message: string | null };
  result: unknown;
  error: { code: string; message: string } | null;
  artifacts: JobArtifact[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  runAt: string;
}

export interface SubmitRequest {
  type: string;
  input: unknown;
  delaySeconds?: number;
  runAt?: string;
  maxAttempts?: number;
  timeoutSeconds?: number;
}

export interface UploadView {
  id: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

export const terminal = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Typed client for the jobshift HTTP API, used by the CLI and by applications.
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.JOBSHIFT_API_KEY! });
 * const job = await client.submit({ type: 'document.pdf', input: { title: 'Hi', markdown: '# Hi' } });
 * const done = await client.waitForJob(job.id);
 */
export function createClient(options: { baseUrl: string; apiKey: string }) {
  const base = options.baseUrl.replace(/\/+$/, '');
  const request = async (path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${options.apiKey}`);
    const response = await fetch(base + path, { ...init, headers });
    const redirect = response.status >= 300 && response.status < 400;
    if (!response.ok && !redirect) {
      const text = await response.text();
      let problem: Problem;
      try {
        problem = JSON.parse(text) as Problem;
      } catch {
        problem = { status: response.status, code: 'http_error', detail: text || response.statusText };
      }
      throw new ApiError(response.status, problem);
    }
    return response;
  };
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await request(path, init)).json()) as T;
  const post = <T>(path: string, body?: unknown, headers: Record<string, string> = {}) =>
    json<T>(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? '{}' : JSON.stringify(body),
    });

  const client = {
    submit: (body: SubmitRequest, opts: { idempotencyKey?: string } = {}) =>
      post<JobView>('/v1/jobs', body, opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {}),
    /** Up to 1,000 jobs in one request; give each an idempotencyKey to make retries safe. */
    submitBatch: (jobs: (SubmitRequest & { idempotencyKey?: string })[]) => post<{ items: JobView[]; created: number }>('/v1/jobs/batch', { jobs }),
    getJob: (id: string) => json<JobView>(`/v1/jobs/${encodeURIComponent(id)}`),
    listJobs: (query: { status?: string; type?: string; limit?: number; cursor?: string } = {}) => {
      const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined).map(([k, v]): [string, string] => [k, String(v)]));
      return json<{ items: JobView[]; nextCursor: string | null }>(`/v1/jobs?${params}`);
    },
    logs: (id: string) =>
      json<{ items: { at: string; attempt: number; level: string; message: string }[] }>(`/v1/jobs/${encodeURIComponent(id)}/logs`),
    cancel: (id: string) => post<JobView>(`/v1/jobs/${encodeURIComponent(id)}/cancel`),
    retry: (id: string) => post<JobView>(`/v1/jobs/${encodeURIComponent(id)}/retry`),
    jobTypes: () => json<{ items: { type: string; description: string; inputSchema: unknown }[] }>('/v1/job-types'),
    upload: (body: Readable | Uint8Array, contentType = 'application/octet-stream', bytes?: number) =>
      json<UploadView>('/v1/uploads', {
        method: 'POST',
        headers: { 'content-type': contentType, ...(bytes === undefined ? {} : { 'content-length': String(bytes) }) },
        body: body instanceof Uint8Array ? body : (Readable.toWeb(body) as ReadableStream),
        duplex: 'half',
      } as RequestInit),
    /** The artifact as a streaming Response; presigned redirects are followed without sending the API key on. */
    async download(id: string, name: string) {
      const response = await request(`/v1/jobs/${encodeURIComponent(id)}/artifacts/${encodeURIComponent(name)}`, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        const redirected = await fetch(location);
        if (!redirected.ok) throw new ApiError(redirected.status, { status: redirected.status, code: 'download_failed', detail: await redirected.text() });
        return redirected;
      }
      return response;
    },
    /** Polls until the job is terminal, reporting every change. */
    async waitForJob(id: string, opts: { intervalMs?: number; onUpdate?: (job: JobView) => void; signal?: AbortSignal } = {}) {
      let last = '';
      for (;;) {
        const job = await client.getJob(id);
        const fingerprint = `${job.status}|${job.progress.percent}|${job.progress.message}|${job.attempts}`;
        if (fingerprint !== last) {
          last = fingerprint;
          opts.onUpdate?.(job);
        }
        if (terminal.has(job.status)) return job;
        opts.signal?.throwIfAborted();
        await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 300));
      }
    },
  };
  return client;
}

export type JobshiftClient = ReturnType<typeof createClient>;
