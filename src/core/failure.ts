import { ZodError } from 'zod';
import { JobshiftError, NonRetryableError } from './errors.js';
import type { JobFailure } from './job.js';

/** Why a running attempt was aborted; carried as `signal.reason`. */
export const AbortCode = {
  timeout: 'timeout',
  cancelled: 'cancelled',
  leaseLost: 'lease_lost',
  shutdown: 'shutdown',
} as const;
export type AbortCode = (typeof AbortCode)[keyof typeof AbortCode];

export class AttemptAbortedError extends JobshiftError {
  constructor(
    readonly abortCode: AbortCode,
    message: string,
  ) {
    super(abortCode, message);
  }
}

export interface ClassifiedFailure extends JobFailure {
  retryable: boolean;
}

/** The one place that decides whether a handler failure is worth another attempt. */
export function classifyFailure(error: unknown): ClassifiedFailure {
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const path = issue?.path.length ? `input.${issue.path.join('.')}` : 'input';
    return { code: 'invalid_input', message: `${path}: ${issue?.message ?? 'invalid'}`, retryable: false };
  }
  if (error instanceof NonRetryableError) return { code: error.code, message: error.message, retryable: false };
  const serialized = error as { retryable?: unknown; code?: unknown; message?: unknown } | null;
  if (serialized && typeof serialized === 'object' && typeof serialized.retryable === 'boolean') {
    return {
      code: typeof serialized.code === 'string' ? serialized.code : 'handler_error',
      message: String(serialized.message),
      retryable: serialized.retryable,
    };
  }
  if (error instanceof JobshiftError) return { code: error.code, message: error.message, retryable: true };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'handler_error', message: message || 'handler failed', retryable: true };
}
