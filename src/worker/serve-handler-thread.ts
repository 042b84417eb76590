import { parentPort } from 'node:worker_threads';
import { AttemptAbortedError, classifyFailure } from '../core/failure.js';
import type { HandlerExecutor } from './executor.js';
import type { ThreadReply, ThreadRequest } from './thread-protocol.js';

/** The thread side of the pool: runs one job at a time with an inline executor. */
export function serveHandlerThread(executor: Promise<HandlerExecutor>): void {
  const port = parentPort;
  if (!port) throw new Error('serveHandlerThread must run inside a worker thread');
  const post = (reply: ThreadReply) => port.postMessage(reply);
  let current: AbortController | undefined;
  port.on('message', (request: ThreadRequest) => {
    if (request.kind === 'abort') {
      current?.abort(new AttemptAbortedError(request.code, request.message));
      return;
    }
    const controller = new AbortController();
    current = controller;
    executor
      .then((inline) =>
        inline.run({
          job: request.job,
          signal: controller.signal,
          onProgress: (p) => post({ kind: 'progress', percent: p.percent, message: p.message }),
          onLog: (message) => post({ kind: 'log', message }),
        }),
      )
      .then(
        (outcome) => post({ kind: 'done', result: outcome.result, artifacts: outcome.artifacts }),
        (error: unknown) => post({ kind: 'failed', error: classifyFailure(error) }),
      )
      .finally(() => {
        if (current === controller) current = undefined;
      });
  });
}
