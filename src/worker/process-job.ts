import type { Clock } from '../core/clock.js';
import { LeaseLostError, StoreUnavailableError } from '../core/errors.js';
import { AbortCode, AttemptAbortedError, classifyFailure } from '../core/failure.js';
import type { Job, JobFailure, JobProgress } from '../core/job.js';
import type { Logger } from '../core/logger.js';
import type { JobRegistry } from '../core/registry.js';
import { backoffDelayMs } from '../core/retry.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { artifactKeys } from '../ports/artifact-store.js';
import type { Delivery, JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';
import type { HandlerExecutor, HandlerOutcome } from './executor.js';

export interface ProcessJobDeps {
  store: JobStore;
  queue: JobQueue;
  artifacts: ArtifactStore;
  executor: HandlerExecutor;
  registry: JobRegistry;
  clock: Clock;
  logger: Logger;
  workerId: string;
  leaseMs: number;
  heartbeatMs: number;
  /** Aborting it hands every in-flight job back (worker shutdown). */
  shutdown: AbortSignal;
  /** Progress writes are coalesced to at most one per interval. @default 250 */
  progressIntervalMs?: number;
}

export type ProcessOutcome = 'succeeded' | 'retrying' | 'failed' | 'cancelled' | 'released' | 'lost' | 'skipped';

/**
 * The one pipeline every runtime shares: claim → run handler → publish artifacts and complete
 * (one fenced write) → ack. Handler executions may repeat; transitions happen once because every
 * write is conditional on the attempt (fencing token) granted by the claim.
 */
export async function processJob(delivery: Delivery, deps: ProcessJobDeps, hooks: ProcessHooks = {}): Promise<ProcessOutcome> {
  let handlerDone = false;
  const once = () => {
    if (handlerDone) return;
    handlerDone = true;
    hooks.handlerDone?.();
  };
  try {
    return await runPipeline(delivery, deps, once, hooks.handlerSlot);
  } finally {
    once();
  }
}

export interface ProcessHooks {
  /**
   * Resolves when the handler may start (the runtime has a free slot); false means hand the job
   * back unstarted (it was claimed ahead and waited too long, or the worker is stopping). The
   * lease is renewed meanwhile. Without it the handler starts at once.
   */
  handlerSlot?(): Promise<boolean>;
  /**
   * Called once when the handler has finished (or was never started), before the completion
   * and ack are written: the runtime may start the next handler while they commit.
   */
  handlerDone?(): void;
}

async function runPipeline(
  delivery: Delivery,
  deps: ProcessJobDeps,
  handlerDone: () => void,
  handlerSlot: (() => Promise<boolean>) | undefined,
): Promise<ProcessOutcome> {
  const { store, queue, logger } = deps;
  // A queue in the store's database may have claimed the job in the receive's own commit.
  const job = delivery.claimed !== undefined ? delivery.claimed : await store.claimJob(delivery.jobId, { workerId: deps.workerId, leaseMs: deps.leaseMs });
  if (!job) {
    await queue.ack(delivery);
    return 'skipped';
  }
  const fields = { jobId: job.id, attempt: job.attempt, type: job.type };
  logger.debug('claimed job', fields);
  const refusal = refuseBeforeRunning(job, deps.registry);
  if (refusal) return finishWithout(job, delivery, deps, refusal);

  const controller = new AbortController();
  const stopHeartbeat = startHeartbeat(job, delivery, deps, controller);
  if (handlerSlot && !(await handlerSlot())) {
    stopHeartbeat();
    // Another worker may have taken the job over meanwhile (the lease ran out): nothing to hand back then.
    return handBack(job, delivery, deps, 'not started: claimed ahead of a free slot').catch(async (error: unknown) => {
      if (!(error instanceof LeaseLostError)) throw error;
      await queue.ack(delivery).catch(() => {});
      return 'lost' as const;
    });
  }
  const timeoutTimer = setTimeout(
    () => controller.abort(new AttemptAbortedError(AbortCode.timeout, `timed out after ${job.timeoutSeconds}s (timeoutSeconds)`)),
    job.timeoutSeconds * 1000,
  );
  const onShutdown = () => controller.abort(new AttemptAbortedError(AbortCode.shutdown, 'worker shutting down'));
  if (deps.shutdown.aborted) onShutdown();
  else deps.shutdown.addEventListener('abort', onShutdown, { once: true });
  const progress = createProgressWriter(job, deps);
  // The handler's log lines belong to its attempt: they are written before its outcome is, or the
  // outcome's commit (on another connection) could overtake them and the store refuse them.
  const logWrites = new Set<Promise<void>>();
  const writeLog = (message: string) => {
    const write: Promise<void> = store
      .appendLog(job.id, job.attempt, message)
      .catch(() => {})
      .finally(() => logWrites.delete(write));
    logWrites.add(write);
  };

  let outcome: HandlerOutcome | undefined;
  let failure: unknown;
  try {
    outcome = await deps.executor.run({
      job,
      signal: controller.signal,
      onProgress: progress.write,
      onLog: writeLog,
    });
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(timeoutTimer);
    stopHeartbeat();
    deps.shutdown.removeEventListener('abort', onShutdown);
    handlerDone();
    await progress.flush();
    await Promise.all(logWrites);
  }

  try {
    if (outcome) return await complete(job, delivery, deps, outcome);
    return await settleFailure(job, delivery, deps, controller.signal.reason ?? failure, failure);
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    // An ambiguous write (timeout after commit) that was retried looks like a lost lease:
    // if the store shows this attempt already settled, the first write landed.
    const current = await store.getJob(job.id).catch(() => null);
    if (current && current.attempt === job.attempt && current.status !== 'running') {
      await queue.ack(delivery).catch(() => {});
      return settledOutcome(current.status);
    }
    logger.warn('lease lost; dropping this attempt', fields);
    await discardAttempt(job, deps);
    await queue.ack(delivery).catch(() => {});
    return 'lost';
  }
}

function settledOutcome(status: Job['status']): ProcessOutcome {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'cancelled') return 'cancelled';
  return status === 'queued' ? 'retrying' : 'failed';
}

function refuseBeforeRunning(job: Job, registry: JobRegistry): JobFailure | 'cancel' | null {
  if (job.cancelRequested) return 'cancel';
  if (!registry.has(job.type)) return { code: 'unknown_job_type', message: `no worker handles job type '${job.type}'` };
  if (job.attemptsCharged > job.maxAttempts) {
    const last = job.error ? `; last error: ${job.error.message}` : '';
    return { code: 'attempts_exhausted', message: `worker lost during the final attempt (maxAttempts ${job.maxAttempts})${last}` };
  }
  return null;
}

async function finishWithout(job: Job, delivery: Delivery, deps: ProcessJobDeps, refusal: JobFailure | 'cancel'): Promise<ProcessOutcome> {
  if (refusal === 'cancel') await deps.store.markCancelled(job.id, job.attempt);
  else await deps.store.failJob(job.id, job.attempt, { error: refusal, retryAt: null });
  await deps.queue.ack(delivery);
  return refusal === 'cancel' ? 'cancelled' : 'failed';
}

async function complete(job: Job, delivery: Delivery, deps: ProcessJobDeps, outcome: HandlerOutcome): Promise<ProcessOutcome> {
  const completion = withStoreRetries(deps, () => deps.store.completeJob(job.id, job.attempt, outcome));
  // In one database the ack asked for now commits in the completion's transaction, or not at all;
  // elsewhere it must wait until the completion is durable.
  const ackedWithCompletion = deps.queue.commitsWithStore ? deps.queue.ack(delivery).then(() => true, () => false) : null;
  await completion;
  if (!(await ackedWithCompletion)) await deps.queue.ack(delivery);
  deps.logger.info('job succeeded', { jobId: job.id, attempt: job.attempt, type: job.type });
  return 'succeeded';
}

async function settleFailure(
  job: Job,
  delivery: Delivery,
  deps: ProcessJobDeps,
  reason: unknown,
  handlerError: unknown,
): Promise<ProcessOutcome> {
  const { store, queue, logger } = deps;
  const fields = { jobId: job.id, attempt: job.attempt, type: job.type };
  const abortCode = reason instanceof AttemptAbortedError ? reason.abortCode : undefined;
  if (abortCode === AbortCode.shutdown) {
    // The drain budget is short: the job goes back to the queue first, and this attempt's files
    // (under their own attempt prefix, which no later attempt writes to) are removed after.
    const outcome = await handBack(job, delivery, deps);
    await discardAttempt(job, deps);
    return outcome;
  }
  await discardAttempt(job, deps);
  if (abortCode === AbortCode.leaseLost) throw new LeaseLostError(job.id, job.attempt);
  if (abortCode === AbortCode.cancelled) {
    await withStoreRetries(deps, () => store.markCancelled(job.id, job.attempt));
    await queue.ack(delivery);
    return 'cancelled';
  }
  const failure = classifyFailure(abortCode === AbortCode.timeout ? reason : handlerError);
  const error = { code: failure.code, message: failure.message };
  if (failure.retryable && job.attemptsCharged < job.maxAttempts) {
    const definition = deps.registry.get(job.type);
    const delayMs = definition ? backoffDelayMs(definition.backoff, job.attemptsCharged) : 1000;
    const retryAt = deps.clock.now() + delayMs;
    await withStoreRetries(deps, () => store.failJob(job.id, job.attempt, { error, retryAt }));
    // If this send is lost the reconciler re-wakes the job once it is due.
    await queue.send([{ jobId: job.id, attempt: job.attempt, type: job.type }], { delaySeconds: delayMs / 1000 }).catch((e: unknown) => {
      logger.warn('retry wake-up not sent; the reconciler will wake the job', { ...fields, error: String(e) });
    });
    await queue.ack(delivery);
    logger.info('attempt failed; retry scheduled', { ...fields, error: error.message, delayMs });
    return 'retrying';
  }
  await withStoreRetries(deps, () => store.failJob(job.id, job.attempt, { error, retryAt: null }));
  await queue.ack(delivery);
  logger.info('job failed', { ...fields, error: error.message });
  return 'failed';
}

async function handBack(job: Job, delivery: Delivery, deps: ProcessJobDeps, reason?: string): Promise<ProcessOutcome> {
  await deps.store.releaseJob(job.id, job.attempt, reason);
  await deps.queue.release(delivery);
  deps.logger.info('handed job back', { jobId: job.id, attempt: job.attempt, type: job.type });
  return 'released';
}

/** Files an abandoned attempt wrote are never published; remove them (best effort). */
async function discardAttempt(job: Job, deps: ProcessJobDeps): Promise<void> {
  await deps.artifacts.deletePrefix(artifactKeys.attemptPrefix(job.tenant, job.id, job.attempt)).catch(() => {});
}

/** Terminal writes survive a short store outage; the lease protects against running twice meanwhile. */
async function withStoreRetries(deps: ProcessJobDeps, write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || attempt >= 5) throw error;
      deps.logger.warn('store unavailable; retrying write', { attempt, error: error.message });
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
    }
  }
}

function startHeartbeat(job: Job, delivery: Delivery, deps: ProcessJobDeps, controller: AbortController): () => void {
  const visibilitySeconds = Math.max(1, Math.ceil(deps.leaseMs / 1000));
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    deps.store
      .renewLease(job.id, job.attempt, deps.leaseMs)
      .then(({ cancelRequested }) => {
        if (cancelRequested) controller.abort(new AttemptAbortedError(AbortCode.cancelled, 'cancelled by request'));
        return deps.queue.extendVisibility(delivery, visibilitySeconds);
      })
      .catch((error: unknown) => {
        if (error instanceof LeaseLostError) {
          controller.abort(new AttemptAbortedError(AbortCode.leaseLost, error.message));
        } else {
          deps.logger.warn('heartbeat failed', { jobId: job.id, attempt: job.attempt, error: String(error) });
        }
      })
      .finally(() => {
        running = false;
      });
  }, deps.heartbeatMs);
  return () => clearInterval(timer);
}

function createProgressWriter(job: Job, deps: ProcessJobDeps) {
  const intervalMs = deps.progressIntervalMs ?? 250;
  let pending: JobProgress | undefined;
  let lastWriteAt = 0;
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const flushNow = () => {
    timer = undefined;
    const next = pending;
    if (!next) return inFlight;
    pending = undefined;
    lastWriteAt = Date.now();
    inFlight = inFlight.then(() => deps.store.recordProgress(job.id, job.attempt, next).catch(() => {}));
    return inFlight;
  };
  return {
    write(progress: JobProgress) {
      pending = progress;
      if (timer) return;
      const wait = Math.max(0, lastWriteAt + intervalMs - Date.now());
      timer = setTimeout(flushNow, wait);
    },
    async flush() {
      clearTimeout(timer);
      await flushNow();
    },
  };
}
