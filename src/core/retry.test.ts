import { describe, expect, it } from 'vitest';
import { backoffDelayMs, defaultBackoff } from './retry.js';

describe('backoffDelayMs', () => {
  it('grows exponentially and stays within [base/2, base]', () => {
    const policy = { initialDelaySeconds: 1, maxDelaySeconds: 60, factor: 2 };
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(policy, 1, () => 1)).toBe(1000);
    expect(backoffDelayMs(policy, 4, () => 0)).toBe(4000);
    expect(backoffDelayMs(policy, 4, () => 1)).toBe(8000);
  });
  it('is capped by maxDelaySeconds', () => {
    expect(backoffDelayMs(defaultBackoff, 30, () => 1)).toBe(300_000);
  });
  it('spreads retries (jitter)', () => {
    const values = new Set(Array.from({ length: 20 }, () => backoffDelayMs(defaultBackoff, 3)));
    expect(values.size).toBeGreaterThan(1);
  });
});
