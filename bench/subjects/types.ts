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
  /** Drain `count` pre-enqueued no-op jobs with one worker at `concurrency`; resolves when all completed. */
  drain(count: number, concurrency: number): Promise<void>;
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
