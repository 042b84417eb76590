export interface BackoffPolicy {
  /** @default 1 */
  initialDelaySeconds: number;
  /** @default 300 */
  maxDelaySeconds: number;
  /** @default 2 */
  factor: number;
}

export const defaultBackoff: BackoffPolicy = Object.freeze({ initialDelaySeconds: 1, maxDelaySeconds: 300, factor: 2 });

/**
 * Exponential backoff with "full jitter" (AWS architecture blog): a uniform delay in
 * [base/2, base] where base = initial * factor^(attempt-1), capped. Half the base is kept so
 * retries never collapse onto an immediate re-run.
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(policy.maxDelaySeconds, policy.initialDelaySeconds * policy.factor ** exponent) * 1000;
  return Math.round(base / 2 + (random() * base) / 2);
}
