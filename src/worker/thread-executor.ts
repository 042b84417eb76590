import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/logger.js';
import { AbortCode, AttemptAbortedError } from '../core/failure.js';
import type { HandlerExecutor, HandlerOutcome, HandlerRun } from './executor.js';
import type { ThreadReply, ThreadRequest } from './thread-protocol.js';

export interface ThreadExecutorOptions {
  /** Most handlers running at once (one thread each). */
  size: number;
  /** Module that runs `serveHandlerThread` (see config/handler-thread.ts). */
  entry: URL;
  workerData: unknown;
  /** After an abort (timeout, cancel, lost lease) a handler gets this long to stop before its thread is terminated. @default 2000 */
  abortGraceMs?: number;
  logger: Logger;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  onReply: ((reply: ThreadReply) => void) | undefined;
  onExit: ((error: Error) => void) | undefined;
}

/**
 * A pool of worker threads, one handler per thread at a time. CPU-bound handlers run here so
 * the main event loop keeps heartbeating leases; a handler that ignores its abort signal is
 * stopped by terminating its thread.
 */
export function createThreadExecutor(options: ThreadExecutorOptions): HandlerExecutor {
  const abortGraceMs = options.abortGraceMs ?? 2000;
  const slots = new Set<Slot>();
  const waiting: ((slot: Slot) => void)[] = [];
  let closed = false;
  // Running from TypeScript sources (tests, tsx): the thread needs the same loader.
  const fromSource = options.entry.pathname.endsWith('.ts');

  const spawn = (): Slot => {
    const worker = new Worker(fileURLToPath(options.entry), {
      workerData: options.workerData,
      execArgv: fromSource ? ['--import', 'tsx'] : [],
    });
    const slot: Slot = { worker, busy: false, onReply: undefined, onExit: undefined };
    worker.on('message', (reply: ThreadReply) => slot.onReply?.(reply));
    worker.on('error', (error) => slot.onExit?.(error));
    worker.on('exit', (code) => {
      slots.delete(slot);
      slot.onExit?.(new Error(`handler thread exited with code ${code}`));
    });
    slots.add(slot);
    return slot;
  };

  const acquire = (): Promise<Slot> => {
    for (const slot of slots) {
      if (!slot.busy) {
        slot.busy = true;
        return Promise.resolve(slot);
      }
    }
    if (slots.size < options.size) {
      const slot = spawn();
      slot.busy = true;
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => waiting.push(resolve));
  };

  const releaseSlot = (slot: Slot) => {
    slot.onReply = undefined;
    slot.onExit = undefined;
    const alive = slots.has(slot);
    const next = waiting.shift();
    if (!next) {
      slot.busy = false;
      return;
    }
    if (alive) next(slot);
    else {
      const fresh = spawn();
      fresh.busy = true;
      next(fresh);
    }
  };

  const runOn = (slot: Slot, run: HandlerRun) =>
    new Promise<HandlerOutcome>((resolve, reject) => {
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const finish = (action: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        run.signal.removeEventListener('abort', onAbort);
        action();
      };
      const terminate = () => {
        const reason = run.signal.reason;
        finish(() => reject(reason instanceof Error ? reason : new Error(String(reason))));
        void slot.worker.terminate();
      };
      const onAbort = () => {
        const reason = run.signal.reason;
        const code = reason instanceof AttemptAbortedError ? reason.abortCode : AbortCode.cancelled;
        slot.worker.postMessage({ kind: 'abort', code, message: String((reason as Error)?.message ?? reason) } satisfies ThreadRequest);
        if (code === AbortCode.shutdown) terminate();
        else killTimer = setTimeout(terminate, abortGraceMs);
      };
      slot.onReply = (reply) => {
        if (reply.kind === 'progress') run.onProgress({ percent: reply.percent, message: reply.message });
        else if (reply.kind === 'log') run.onLog(reply.message);
        else if (reply.kind === 'done') finish(() => resolve({ result: reply.result, artifacts: reply.artifacts }));
        else if (reply.kind === 'failed') finish(() => reject(reply.error));
      };
      slot.onExit = (error) => finish(() => reject(Object.assign(error, { retryable: true, code: 'handler_thread_exited' })));
      if (run.signal.aborted) {
        finish(() => reject(run.signal.reason));
        return;
      }
      run.signal.addEventListener('abort', onAbort, { once: true });
      slot.worker.postMessage({ kind: 'run', job: run.job } satisfies ThreadRequest);
    });

  return {
    async run(run) {
      if (closed) throw new Error('thread executor is closed');
      const slot = await acquire();
      try {
        return await runOn(slot, run);
      } finally {
        releaseSlot(slot);
      }
    },
    async close() {
      closed = true;
      await Promise.all([...slots].map((slot) => slot.worker.terminate()));
      slots.clear();
    },
  };
}
