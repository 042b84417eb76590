/**
 * jobshift's public API for users' job modules and applications. The root import stays light:
 * no adapters, no AWS SDK, no database driver.
 */
export { z } from 'zod';
export type { ArtifactBody, ArtifactInfo, JobContext, JobDefinition, JobDefinitionInput, JobNeeds } from './core/define-job.js';
export { defineJob } from './core/define-job.js';
export { NonRetryableError, JobshiftError } from './core/errors.js';
export type { Job, JobStatus } from './core/job.js';
export { uploadRef } from './core/upload-ref.js';
export type { BackoffPolicy } from './core/retry.js';
export { createClient, ApiError } from './client/client.js';
export type { JobshiftClient, JobView, SubmitRequest } from './client/client.js';
