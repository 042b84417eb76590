import { StoreUnavailableError } from '../core/errors.js';

const unavailableNames = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** AWS SDK errors that mean "try again later" become StoreUnavailableError (503 at the API). */
export function translateAwsError(error: unknown): unknown {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; message?: string } | null;
  if (!e || typeof e !== 'object') return error;
  const status = e.$metadata?.httpStatusCode;
  const network = typeof e.code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|AI_AGAIN)/.test(e.code);
  if (network || unavailableNames.has(e.name ?? '') || (status !== undefined && status >= 500)) {
    return new StoreUnavailableError(`AWS service unavailable (${e.name ?? e.code ?? status}: ${e.message ?? ''})`, { cause: error });
  }
  return error;
}
