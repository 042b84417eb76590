import { pathToFileURL } from 'node:url';
import type { JobDefinition } from '../core/define-job.js';
import type { JobRegistry } from '../core/registry.js';
import { createRegistry, definitionsFromModule } from '../core/registry.js';
import { builtinJobs } from '../jobs/index.js';

/** Imports a user's jobs module; TypeScript modules go through tsx, loaded only when needed. */
export async function importJobsModule(path: string): Promise<JobDefinition[]> {
  let mod: Record<string, unknown>;
  if (/\.(c|m)?tsx?$/.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  } else {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  }
  const definitions = definitionsFromModule(mod);
  if (definitions.length === 0) {
    throw new TypeError(`jobs module ${path} exports no job definitions (export default [defineJob(...), ...])`);
  }
  return definitions;
}

/** Built-in job types plus the user's, checked for duplicates. */
export async function loadRegistry(jobsModule: string | null): Promise<JobRegistry> {
  const user = jobsModule ? await importJobsModule(jobsModule) : [];
  return createRegistry([...builtinJobs, ...user]);
}
