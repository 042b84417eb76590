import { workerData } from 'node:worker_threads';
import { createFsArtifactStore } from '../adapters/fs/fs-artifact-store.js';
import { createInlineExecutor } from '../worker/inline-executor.js';
import { serveHandlerThread } from '../worker/serve-handler-thread.js';
import type { HandlerThreadData } from './compose.js';
import { loadRegistry } from './load-jobs.js';

const data = workerData as HandlerThreadData;
serveHandlerThread(
  loadRegistry(data.jobsModule).then((registry) =>
    createInlineExecutor({ registry, artifacts: createFsArtifactStore({ rootDir: data.artifactsRoot }) }),
  ),
);
