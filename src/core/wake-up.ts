import type { WakeUp } from './job.js';

/** Reads a queue message body; null for anything that is not a jobshift wake-up. */
export function parseWakeUp(body: string | undefined): WakeUp | null {
  try {
    const value = JSON.parse(body ?? '') as Partial<WakeUp>;
    if (typeof value.jobId === 'string' && typeof value.attempt === 'number') return { jobId: value.jobId, attempt: value.attempt };
  } catch {
    // not JSON
  }
  return null;
}

export const formatWakeUp = (wakeUp: WakeUp) => JSON.stringify({ jobId: wakeUp.jobId, attempt: wakeUp.attempt });
