import type { EventEmitter } from 'node:events';

/** Resolves on the first of: the event, `ms` elapsing, or the signal aborting (long-poll waits). */
export function waitForEvent(emitter: EventEmitter, event: string, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      emitter.off(event, done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    emitter.on(event, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
