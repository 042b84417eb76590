import type { Readable } from 'node:stream';
import type { ZodType } from 'zod';
import type { Runtime } from './placement.js';
import type { BackoffPolicy } from './retry.js';
import { defaultBackoff } from './retry.js';

export interface ArtifactInfo {
  bytes: number;
  sha256: string;
  contentType: string;
}

export type ArtifactBody = Uint8Array | string | Readable | AsyncIterable<Uint8Array>;

/** What a handler receives besides its input. */
export interface JobContext {
  readonly jobId: string;
  readonly tenant: string;
  readonly attempt: number;
  /** Aborted on timeout, cancellation, lost lease or worker shutdown; `signal.reason` says which. */
  readonly signal: AbortSignal;
  /** Report progress (0–100) with an optional message; throttled before it reaches the store. */
  progress(percent: number, message?: string): void;
  /** Append a line to the job's log. */
  log(message: string): void;
  readonly artifacts: {
    /** Write a file; it becomes visible only if this attempt completes. */
    write(name: string, body: ArtifactBody, contentType: string): Promise<ArtifactInfo>;
  };
  readonly uploads: {
    /** Open an upload of this job's tenant for streaming. */
    open(uploadId: string): Promise<{ info: ArtifactInfo; body: Readable }>;
  };
}

/** Where a job type wants to run (see the placement rules in ARCHITECTURE.md). */
export interface JobNeeds {
  expectedDurationSeconds?: number;
  memoryMb?: number;
  cpuHeavy?: boolean;
  bursty?: boolean;
  gpu?: boolean;
  hostAgents?: boolean;
}

export interface JobDefinitionInput<I, R> {
  /** Dotted lowercase name, e.g. `document.pdf`. */
  type: string;
  /** Zod schema for the job input; validated by the API at submit and again before running. */
  input: ZodType<I>;
  /** @default 300 */
  timeoutSeconds?: number;
  /** @default 3 */
  maxAttempts?: number;
  backoff?: Partial<BackoffPolicy>;
  needs?: JobNeeds;
  /** Force a runtime instead of the planner's choice; rejected when the runtime cannot do the job. */
  placement?: Runtime;
  description?: string;
  handler(input: I, ctx: JobContext): Promise<R> | R;
}

export interface JobDefinition<I = unknown, R = unknown> {
  readonly type: string;
  readonly input: ZodType<I>;
  readonly timeoutSeconds: number;
  readonly maxAttempts: number;
  readonly backoff: BackoffPolicy;
  readonly needs: JobNeeds;
  readonly placement: Runtime | undefined;
  readonly description: string;
  handler(input: I, ctx: JobContext): Promise<R> | R;
}

const typePattern = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

/**
 * Declare a job type.
 * @example
 * export const hello = defineJob({
 *   type: 'hello.world',
 *   input: z.object({ name: z.string() }).strict(),
 *   async handler({ name }, ctx) {
 *     await ctx.artifacts.write('hello.txt', `Hello ${name}`, 'text/plain');
 *     return { greeted: name };
 *   },
 * });
 */
export function defineJob<I, R>(definition: JobDefinitionInput<I, R>): JobDefinition<I, R> {
  if (!typePattern.test(definition.type)) {
    throw new TypeError(`defineJob: type '${definition.type}' must be lowercase words separated by dots, e.g. 'report.pdf'`);
  }
  const timeoutSeconds = definition.timeoutSeconds ?? 300;
  const maxAttempts = definition.maxAttempts ?? 3;
  if (!(timeoutSeconds > 0)) throw new TypeError(`defineJob(${definition.type}): timeoutSeconds must be > 0`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new TypeError(`defineJob(${definition.type}): maxAttempts must be an integer >= 1`);
  }
  return Object.freeze({
    type: definition.type,
    input: definition.input,
    timeoutSeconds,
    maxAttempts,
    backoff: Object.freeze({ ...defaultBackoff, ...definition.backoff }),
    needs: Object.freeze({ ...definition.needs }),
    placement: definition.placement,
    description: definition.description ?? '',
    handler: definition.handler,
  });
}

export function isJobDefinition(value: unknown): value is JobDefinition {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as JobDefinition).type === 'string' &&
    typeof (value as JobDefinition).handler === 'function' &&
    typeof (value as JobDefinition).input === 'object'
  );
}
