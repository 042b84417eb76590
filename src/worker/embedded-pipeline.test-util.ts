import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFsArtifactStore } from '../adapters/fs/fs-artifact-store.js';
import type { SqliteDatabase } from '../adapters/sqlite/database.js';
import { openSqliteDatabase } from '../adapters/sqlite/database.js';
import { createSqliteJobQueue } from '../adapters/sqlite/sqlite-job-queue.js';
import { createSqliteJobStore } from '../adapters/sqlite/sqlite-job-store.js';
import { systemClock } from '../core/clock.js';
import { silentLogger } from '../core/logger.js';
import type { JobRegistry } from '../core/registry.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { JobStore } from '../ports/job-store.js';
import { createInlineExecutor } from './inline-executor.js';
import type { ProcessJobDeps } from './process-job.js';

export interface EmbeddedPipeline {
  path: string;
  db: SqliteDatabase;
  store: JobStore;
  queue: JobQueue;
  artifacts: ArtifactStore;
  /** Aborting it is the worker's shutdown (deps.shutdown, unless overridden). */
  shutdown: AbortController;
  deps: ProcessJobDeps;
}

/**
 * The processJob pipeline on a temporary embedded database: SQLite store and queue (sharing the
 * store or not), artifacts in a directory, handlers inline, worker `w1`.
 */
export function embeddedPipeline(options: {
  registry: JobRegistry;
  sharesStore?: boolean;
  pollIntervalMs?: number;
  busyTimeoutMs?: number;
  deps?: Partial<ProcessJobDeps>;
}): EmbeddedPipeline {
  const dir = mkdtempSync(join(tmpdir(), 'jobshift-pipeline-'));
  const path = join(dir, 'db.sqlite');
  const db = openSqliteDatabase(path, options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {});
  const store = createSqliteJobStore({ db });
  const queue = createSqliteJobQueue({ db, pollIntervalMs: options.pollIntervalMs ?? 20, sharesStore: options.sharesStore ?? false });
  const artifacts = createFsArtifactStore({ rootDir: join(dir, 'artifacts') });
  const shutdown = new AbortController();
  const deps: ProcessJobDeps = {
    store,
    queue,
    artifacts,
    executor: createInlineExecutor({ registry: options.registry, artifacts }),
    registry: options.registry,
    clock: systemClock,
    logger: silentLogger,
    workerId: 'w1',
    leaseMs: 5000,
    heartbeatMs: 1000,
    shutdown: shutdown.signal,
    ...options.deps,
  };
  return { path, db, store, queue, artifacts, shutdown, deps };
}
