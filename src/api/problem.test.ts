import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  IdempotencyMismatchError,
  NotFoundError,
  PayloadTooLargeError,
  StoreUnavailableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../core/errors.js';
import { statusFor } from './problem.js';

describe('statusFor', () => {
  it.each([
    [new ValidationError('input.x', 'bad'), 400],
    [new UnauthorizedError(), 401],
    [new NotFoundError('x'), 404],
    [new ConflictError('x'), 409],
    [new PayloadTooLargeError(10), 413],
    [new UnsupportedMediaTypeError('application/json', 'text/plain'), 415],
    [new IdempotencyMismatchError('k'), 422],
    [new StoreUnavailableError('down'), 503],
    [new HTTPException(400, { message: 'Malformed JSON in request body' }), 400],
    [new Error('bug'), 500],
  ])('%s → %i', (error, status) => {
    expect(statusFor(error)).toBe(status);
  });
});
