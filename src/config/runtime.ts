import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { serve } from '@hono/node-server';
import { createApp } from '../api/app.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { maxInFlight, startPoller } from '../worker/poller.js';
import { processJob } from '../worker/process-job.js';
import { planRegistry } from '../core/plan.js';
import type { JobRegistry } from '../core/registry.js';
import { startDeadLetterReader } from '../worker/dead-letter-reader.js';
import { createInlineExecutor } from '../worker/inline-executor.js';
import { startLambdaEventSource } from '../worker/lambda-event-source.js';
import { createSqsBatchHandler } from '../worker/lambda-runtime.js';
import { startReconciler } from '../worker/reconciler.js';
import type { Config } from './config.js';
import type { Backends } from './compose.js';
import { createHandlerExecutor, openBackends, pipelineDeps } from './compose.js';
import { loadRegistry } from './load-jobs.js';

export interface Roles {
  api: boolean;
  worker: boolean;
  reconciler: boolean;
}

export interface RunningJobshift {
  backends: Backends;
  /** The API's base URL when the api role runs. */
  url: string | null;
  workerId: string;
  /** Graceful stop: stop claiming at once, finish or hand back in-flight jobs within the drain budget. */
  stop(): Promise<void>;
}

/** Starts the roles a command asked for, all sharing one composition of adapters. */
export async function startJobshift(
  config: Config,
  roles: Roles,
  logger: Logger,
  /** Runs before anything listens or claims (e.g. creating the dev key). */
  prepare?: (backends: Backends) => Promise<void>,
): Promise<RunningJobshift> {
  const registry = await loadRegistry(config.jobsModule);
  const placement = new Map(planRegistry(registry).map((p) => [p.type, p.runtime]));
  const backends = await openBackends(config, { logger, runtimeOf: (type) => placement.get(type) });
  await prepare?.(backends);
  const workerId = `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  let draining = false;
  let server: Server | undefined;
  let url: string | null = null;

  if (roles.api) {
    const app = createApp({
      ...backends,
      registry,
      clock: systemClock,
      logger,
      maxUploadBytes: config.maxUploadBytes,
      maxJsonBodyBytes: config.maxJsonBodyBytes,
      artifactDownloads: config.artifactDownloads,
      presignSeconds: config.presignSeconds,
      isDraining: () => draining,
    });
    server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s as Server)) as Server;
      s.once('error', reject);
    });
    const { port } = server.address() as AddressInfo;
    url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    logger.info(`API listening on ${url}`, { url });
  }

  const shutdown = new AbortController();
  // Every in-flight job listens for shutdown; more than Node's default of 10 is expected.
  setMaxListeners(maxInFlight(config.concurrency, config.prefetch) + 10, shutdown.signal);
  const lambda = roles.worker && config.runtime === 'lambda';
  const executor = roles.worker && !lambda ? createHandlerExecutor(config, logger) : undefined;
  const eventSource = lambda ? startLocalLambda(config, backends, registry, logger, workerId) : undefined;
  const containerDeps = executor ? pipelineDeps(config, backends, { registry, executor, logger, workerId }) : undefined;
  const poller = containerDeps
    ? startPoller({
        queue: backends.queue,
        concurrency: config.concurrency,
        prefetch: config.prefetch,
        visibilityTimeoutSeconds: Math.ceil(config.leaseSeconds),
        logger,
        claim: { workerId: containerDeps.workerId, leaseMs: containerDeps.leaseMs },
        process: (delivery, slot) =>
          processJob(delivery, { ...containerDeps, shutdown: shutdown.signal }, { handlerSlot: slot.start, handlerDone: slot.done }),
      })
    : undefined;
  if (poller) logger.info('worker started', { workerId, concurrency: config.concurrency, types: [...registry.keys()] });

  // Workers that claim from the store itself find every due job and expired lease on their own.
  const reconciler = roles.reconciler && !backends.queue.claimsFromStore
    ? startReconciler({
        store: backends.store,
        queue: backends.queue,
        intervalMs: config.reconcileIntervalSeconds * 1000,
        wakeIdleMs: config.wakeIdleSeconds * 1000,
        logger,
      })
    : undefined;
  const deadLetterReader =
    roles.reconciler && backends.deadLetters ? startDeadLetterReader({ deadLetters: backends.deadLetters, store: backends.store, logger }) : undefined;

  return {
    backends,
    url,
    workerId,
    async stop() {
      draining = true;
      const drainMs = config.drainSeconds * 1000;
      const handBackMs = Math.min(5000, drainMs * 0.2);
      const started = Date.now();
      await eventSource?.stop();
      await poller?.stopReceiving();
      logger.info('stopped claiming; draining', { inFlight: poller?.inFlight ?? 0, drainSeconds: config.drainSeconds });
      const closed = server ? closeServer(server, drainMs) : Promise.resolve();
      if (poller && !(await poller.waitForIdle(drainMs - handBackMs - (Date.now() - started)))) {
        logger.warn('drain budget nearly spent; handing back jobs still running', { inFlight: poller.inFlight });
        shutdown.abort();
        await poller.waitForIdle(handBackMs);
      }
      await closed;
      await reconciler?.stop();
      await deadLetterReader?.stop();
      await executor?.close();
      await backends.close();
      logger.info('stopped');
    },
  };
}

/** `worker --runtime lambda`: the Lambda handler behind a local SQS event source mapping. */
function startLocalLambda(config: Config, backends: Backends, registry: JobRegistry, logger: Logger, workerId: string) {
  const deps = pipelineDeps(config, backends, { registry, executor: createInlineExecutor({ registry, artifacts: backends.artifacts }), logger, workerId });
  logger.info('lambda runtime started (local SQS event source mapping)', {
    workerId,
    batchSize: config.lambdaBatchSize,
    maxConcurrency: config.lambdaMaxConcurrency,
    types: [...registry.keys()],
  });
  return startLambdaEventSource({
    queue: backends.queue,
    handler: createSqsBatchHandler(async () => deps),
    batchSize: config.lambdaBatchSize,
    batchWindowSeconds: config.lambdaBatchWindowSeconds,
    maxConcurrency: config.lambdaMaxConcurrency,
    functionTimeoutSeconds: config.lambdaTimeoutSeconds,
    visibilityTimeoutSeconds: config.lambdaVisibilitySeconds,
    logger,
  });
}

function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
