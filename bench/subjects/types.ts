/** One system under test. Every method runs to completion and returns what it measured. */
export interface Subject {
  name: string;
  /** Package versions and settings worth recording. */
  describe(): Promise<Record<string, unknown>>;
  /** Empties the subject's queue/store between runs. */
  reset(): Promise<void>;
  /** Enqueue `count` no-op jobs `inFlight` at a time (1 = awaited one by one). */
  enqueue(count: number, inFlight: number): Promise<void>;
  /** Enqueue with the bulk API, 1,000 jobs per call. */
  enqueueBulk(count: number): Promise<void>;
  /** With one worker at `concurrency`, complete `count` of the queued no-op jobs; resolves when they have. */
  drain(count: number, concurrency: number): Promise<void>;
  /**
   * With one worker at `concurrency` running, submit no-op jobs at `rate` per second for
   * `seconds`; resolves with each job's delay from its scheduled submit to its handler start, ms.
   */
  latency(rate: number, seconds: number, concurrency: number): Promise<number[]>;
  /** How many jobs are queued and not yet taken. */
  backlog(): Promise<number>;
  close(): Promise<void>;
}

export async function pool<T>(count: number, inFlight: number, task: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/**
 * Offers jobs at a fixed rate, whatever the subject's speed (no coordinated omission: a slow
 * submit does not delay the next one), and resolves with the delay from each job's scheduled
 * time to its handler start. `started` is filled by the subject's handler, indexed by job number.
 */
export async function offerAtRate(rate: number, seconds: number, started: number[], submit: (i: number) => Promise<unknown>): Promise<number[]> {
  const total = Math.round(rate * seconds);
  const scheduled: number[] = [];
  const submits: Promise<unknown>[] = [];
  const t0 = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    // Never early: timers sleep in whole milliseconds, the last one is spun out with setImmediate.
    for (let wait = due - performance.now(); wait > 0; wait = due - performance.now()) {
      await new Promise((resolve) => (wait > 2 ? setTimeout(resolve, wait - 1) : setImmediate(resolve)));
    }
    scheduled[i] = due;
    submits.push(submit(i));
  }
  await Promise.all(submits);
  const deadline = performance.now() + 30_000;
  while (started.filter(Boolean).length < total) {
    if (performance.now() > deadline) throw new Error(`only ${started.filter(Boolean).length} of ${total} jobs started within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return scheduled.map((due, i) => (started[i] as number) - due);
}
