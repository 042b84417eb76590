import type { JobDefinition } from './define-job.js';
import { isJobDefinition } from './define-job.js';

/** The job types a process knows, by type name. */
export type JobRegistry = ReadonlyMap<string, JobDefinition>;

export function createRegistry(definitions: Iterable<JobDefinition>): JobRegistry {
  const registry = new Map<string, JobDefinition>();
  for (const definition of definitions) {
    if (!isJobDefinition(definition)) throw new TypeError('job registry: every entry must come from defineJob()');
    if (registry.has(definition.type)) throw new TypeError(`job registry: type '${definition.type}' is defined twice`);
    registry.set(definition.type, definition);
  }
  return registry;
}

/**
 * Accepts what a user's jobs module may export: `export default [jobA, jobB]`,
 * `export default { jobs: [...] }`, or named exports of job definitions.
 */
export function definitionsFromModule(mod: Record<string, unknown>): JobDefinition[] {
  const fromDefault = mod.default;
  if (Array.isArray(fromDefault)) return fromDefault as JobDefinition[];
  if (isJobDefinition(fromDefault)) return [fromDefault];
  if (typeof fromDefault === 'object' && fromDefault !== null && Array.isArray((fromDefault as { jobs?: unknown }).jobs)) {
    return (fromDefault as { jobs: JobDefinition[] }).jobs;
  }
  return Object.values(mod).filter(isJobDefinition);
}
