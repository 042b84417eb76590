import { workerData } from 'node:worker_threads';
import { createInlineExecutor } from '../worker/inline-executor.js';
import { serveHandlerThread } from '../worker/serve-handler-thread.js';
import type { HandlerThreadData } from './compose.js';
import { openArtifactStore } from './compose.js';
import { loadRegistry } from './load-jobs.js';

const { config } = workerData as HandlerThreadData;
serveHandlerThread(
  Promise.all([loadRegistry(config.jobsModule), openArtifactStore(config)]).then(([registry, artifacts]) =>
    createInlineExecutor({ registry, artifacts }),
  ),
);
