import type { JobRegistry } from '../core/registry.js';
import { NonRetryableError } from '../core/errors.js';
import type { ArtifactRef } from '../core/job.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { HandlerExecutor, HandlerRun } from './executor.js';
import { createJobContext } from './job-context.js';

/**
 * Runs handlers on the calling thread. Used inside handler threads, in the Lambda runtime
 * (one job per invocation) and in unit tests.
 */
export function createInlineExecutor(options: { registry: JobRegistry; artifacts: ArtifactStore }): HandlerExecutor {
  return {
    async run({ job, signal, onProgress, onLog }: HandlerRun) {
      const definition = options.registry.get(job.type);
      if (!definition) throw new NonRetryableError(`no handler for job type '${job.type}' in this worker`, 'unknown_job_type');
      const input = definition.input.parse(job.input);
      const written: ArtifactRef[] = [];
      const ctx = createJobContext({ job, artifacts: options.artifacts, signal, onProgress, onLog, written });
      const result = await definition.handler(input, ctx);
      const json = result === undefined ? null : JSON.parse(JSON.stringify(result));
      return { result: json, artifacts: written };
    },
    close: async () => {},
  };
}
