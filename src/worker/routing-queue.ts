import type { WakeUp } from '../core/job.js';
import type { Runtime } from '../core/placement.js';
import type { JobQueue } from '../ports/job-queue.js';

/**
 * Sends each wake-up to the queue of the pool its job type is placed on (lambda, fargate, ec2);
 * receives, acks and heartbeats stay on this process's own queue. Wake-ups of unknown types,
 * or without a type, go to the own queue.
 */
export function createRoutingQueue(options: {
  own: JobQueue;
  pools: ReadonlyMap<Runtime, JobQueue>;
  runtimeOf(type: string): Runtime | undefined;
}): JobQueue {
  const { own } = options;
  const target = (message: WakeUp) => {
    const runtime = message.type ? options.runtimeOf(message.type) : undefined;
    return (runtime && options.pools.get(runtime)) || own;
  };
  return {
    async send(messages, sendOptions) {
      const groups = new Map<JobQueue, WakeUp[]>();
      for (const message of messages) {
        const queue = target(message);
        groups.set(queue, [...(groups.get(queue) ?? []), message]);
      }
      await Promise.all([...groups].map(([queue, group]) => queue.send(group, sendOptions)));
    },
    receive: (receiveOptions) => own.receive(receiveOptions),
    ack: (delivery) => own.ack(delivery),
    extendVisibility: (delivery, seconds) => own.extendVisibility(delivery, seconds),
    release: (delivery) => own.release(delivery),
    close: () => own.close(),
  };
}
