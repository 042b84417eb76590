import type { JobDefinition } from '../core/define-job.js';
import { planRegistry } from '../core/plan.js';
import { createRegistry } from '../core/registry.js';
import { builtinJobs } from '../jobs/index.js';
import { createInlineExecutor } from '../worker/inline-executor.js';
import type { LambdaDeps } from '../worker/lambda-runtime.js';
import { createSqsBatchHandler } from '../worker/lambda-runtime.js';
import { loadConfig } from './config.js';
import { openBackends, pipelineDeps } from './compose.js';
import { loadRegistry } from './load-jobs.js';
import { createLogger } from './logger.js';
import { withDatabaseSecret } from './secrets.js';

/**
 * The AWS Lambda entry point (`jobshift/lambda`): an SQS event handler with
 * ReportBatchItemFailures. Configuration comes from the function's environment (JOBSHIFT_*),
 * validated on the first invocation; backends stay open across warm invocations.
 * @example
 * // handler.mjs, bundled by `jobshift bundle-lambda`
 * import { createLambdaHandler } from 'jobshift/lambda';
 * import jobs from './jobshift.config.js';
 * export const handler = createLambdaHandler({ jobs });
 */
export function createLambdaHandler(options: { jobs?: readonly JobDefinition[] } = {}) {
  let deps: Promise<LambdaDeps> | undefined;
  const compose = async (): Promise<LambdaDeps> => {
    const config = loadConfig({}, await withDatabaseSecret(process.env), process.env.LAMBDA_TASK_ROOT ?? process.cwd());
    const logger = createLogger({ level: config.logLevel, format: 'json', name: 'lambda' });
    const registry = options.jobs ? createRegistry([...builtinJobs, ...options.jobs]) : await loadRegistry(config.jobsModule);
    const placement = new Map(planRegistry(registry).map((p) => [p.type, p.runtime]));
    const backends = await openBackends(config, { logger, runtimeOf: (type) => placement.get(type) });
    return pipelineDeps(config, backends, {
      registry,
      executor: createInlineExecutor({ registry, artifacts: backends.artifacts }),
      logger,
      workerId: `lambda-${process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? process.pid}`,
    });
  };
  return createSqsBatchHandler(() => {
    deps ??= compose().catch((error: unknown) => {
      // A failed start is retried on the next invocation instead of being cached.
      deps = undefined;
      throw error;
    });
    return deps;
  });
}

/** Handler for functions configured entirely by environment (user jobs from JOBSHIFT_JOBS). */
export const handler = createLambdaHandler();
