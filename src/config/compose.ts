import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { ApiKeyStore, JobStore } from '../ports/job-store.js';
import { createFsArtifactStore } from '../adapters/fs/fs-artifact-store.js';
import { openSqliteDatabase } from '../adapters/sqlite/database.js';
import { createSqliteApiKeyStore } from '../adapters/sqlite/sqlite-api-key-store.js';
import { createSqliteJobQueue } from '../adapters/sqlite/sqlite-job-queue.js';
import { createSqliteJobStore } from '../adapters/sqlite/sqlite-job-store.js';
import { createThreadExecutor } from '../worker/thread-executor.js';
import type { HandlerExecutor } from '../worker/executor.js';
import type { Config } from './config.js';

export interface Backends {
  store: JobStore;
  keys: ApiKeyStore;
  queue: JobQueue;
  artifacts: ArtifactStore;
  close(): Promise<void>;
}

export const artifactsDir = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'artifacts');
export const databasePath = (config: Pick<Config, 'dataDir'>) => join(config.dataDir, 'jobshift.db');

/** The only place that chooses adapters. */
export function openBackends(config: Config, clock: Clock = systemClock): Backends {
  const db = openSqliteDatabase(databasePath(config), { busyTimeoutMs: config.sqliteBusyTimeoutMs });
  const store = createSqliteJobStore({ db, clock });
  const queue = createSqliteJobQueue({ db, clock, pollIntervalMs: config.pollIntervalMs });
  return {
    store,
    keys: createSqliteApiKeyStore({ db, clock }),
    queue,
    artifacts: createFsArtifactStore({ rootDir: artifactsDir(config) }),
    async close() {
      await queue.close();
      await store.close();
      if (db.open) db.close();
    },
  };
}

/** What a handler thread needs to rebuild its side of the composition. */
export interface HandlerThreadData {
  jobsModule: string | null;
  artifactsRoot: string;
}

export function createHandlerExecutor(config: Config, logger: Logger): HandlerExecutor {
  const here = import.meta.url;
  const entry = new URL(here.endsWith('.ts') ? './handler-thread.ts' : './handler-thread.js', here);
  return createThreadExecutor({
    size: config.concurrency,
    entry,
    workerData: { jobsModule: config.jobsModule, artifactsRoot: artifactsDir(config) } satisfies HandlerThreadData,
    abortGraceMs: config.abortGraceSeconds * 1000,
    logger,
  });
}
