import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ZodError } from 'zod';
import {
  ConflictError,
  IdempotencyMismatchError,
  JobshiftError,
  NotFoundError,
  PayloadTooLargeError,
  StoreUnavailableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  requestId: string;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The one place that maps errors to HTTP statuses. */
export function statusFor(error: unknown): number {
  if (error instanceof ValidationError) return 400;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ConflictError) return 409;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof UnsupportedMediaTypeError) return 415;
  if (error instanceof IdempotencyMismatchError) return 422;
  if (error instanceof StoreUnavailableError) return 503;
  if (error instanceof HTTPException && error.status < 500) return error.status;
  return 500;
}

export function problemJson(c: Context, error: unknown): Response {
  const status = statusFor(error);
  const requestId = (c.get('requestId' as never) as string | undefined) ?? 'unknown';
  const body: Problem = {
    type: 'about:blank',
    title: titles[status] ?? 'Error',
    status,
    code: error instanceof JobshiftError ? error.code : error instanceof HTTPException ? 'invalid_request' : 'internal_error',
    detail: status === 500 ? 'internal error; see the server log with this request id' : (error as Error).message,
    requestId,
  };
  if (error instanceof HTTPException && /JSON/i.test(error.message)) body.code = 'invalid_json';
  if (error instanceof ValidationError) body.field = error.field;
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (error instanceof StoreUnavailableError) headers['retry-after'] = String(error.retryAfterSeconds);
  return new Response(JSON.stringify(body), { status, headers });
}

/** The first zod issue as a ValidationError naming the full dotted field. */
export function validationErrorFromZod(error: ZodError, prefix: string): ValidationError {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter(Boolean);
  if (issue?.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0] ?? ''].join('.');
    return new ValidationError(field, `${field}: unknown field (allowed fields are listed in /openapi.json)`, 'unknown_field');
  }
  const field = path.join('.') || prefix || 'body';
  return new ValidationError(field, `${field}: ${issue?.message ?? 'invalid value'}`);
}
