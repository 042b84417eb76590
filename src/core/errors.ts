/**
 * One error hierarchy for the whole project. Every error has a stable string `code`;
 * the HTTP layer maps codes to statuses in exactly one place (api/problem.ts).
 */
export class JobshiftError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Input did not match what was expected; `field` is a dotted path such as `input.width`. */
export class ValidationError extends JobshiftError {
  readonly field: string;
  constructor(field: string, message: string, code = 'validation_failed') {
    super(code, message);
    this.field = field;
  }
}

export class NotFoundError extends JobshiftError {
  constructor(message: string, code = 'not_found') {
    super(code, message);
  }
}

/** The requested transition is not allowed from the current state (e.g. cancel of a finished job). */
export class ConflictError extends JobshiftError {
  constructor(message: string, code = 'conflict') {
    super(code, message);
  }
}

/** Same Idempotency-Key, different request body. */
export class IdempotencyMismatchError extends JobshiftError {
  constructor(key: string) {
    super('idempotency_key_reused', `Idempotency-Key '${key}' was already used with a different request body`);
  }
}

/** The fencing token (attempt) no longer matches: another worker owns the job now. */
export class LeaseLostError extends JobshiftError {
  constructor(jobId: string, attempt: number) {
    super('lease_lost', `job ${jobId} attempt ${attempt} no longer holds the lease`);
  }
}

/** The backing store cannot be reached or is overloaded; callers answer 503 and retry later. */
export class StoreUnavailableError extends JobshiftError {
  readonly retryAfterSeconds: number;
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super('store_unavailable', message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

export class UnauthorizedError extends JobshiftError {
  constructor(message = 'missing or invalid API key: send Authorization: Bearer <key>') {
    super('unauthorized', message);
  }
}

export class PayloadTooLargeError extends JobshiftError {
  constructor(maxBytes: number) {
    super('payload_too_large', `request body is larger than the limit of ${maxBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends JobshiftError {
  constructor(expected: string, got: string | undefined) {
    super('unsupported_media_type', `expected content-type ${expected}, got ${got ? `'${got}'` : 'none'}`);
  }
}

/**
 * Thrown by a handler when retrying cannot help (bad data, missing column...).
 * The job fails at once instead of using its remaining attempts.
 */
export class NonRetryableError extends JobshiftError {
  /** Read structurally too, so an error from another copy of the package is still recognised. */
  readonly retryable = false;
  constructor(message: string, code = 'non_retryable') {
    super(code, message);
  }
}

export function isJobshiftError(error: unknown): error is JobshiftError {
  return error instanceof JobshiftError;
}
