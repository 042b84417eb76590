import type { Placement } from './placement.js';
import { placeJobType } from './placement.js';
import type { JobRegistry } from './registry.js';

export interface PlannedType extends Placement {
  type: string;
}

/** The placement of every registered job type; throws PlacementError on an impossible override. */
export function planRegistry(registry: JobRegistry): PlannedType[] {
  return [...registry.values()].map((d) => ({ type: d.type, ...placeJobType(d.type, d.needs, d.placement) }));
}

export function formatPlan(plan: readonly PlannedType[]): string {
  const width = Math.max(4, ...plan.map((p) => p.type.length));
  const lines = [`${'type'.padEnd(width)}  runtime  reason`, ...plan.map((p) => `${p.type.padEnd(width)}  ${p.runtime.padEnd(7)}  ${p.reason}`)];
  return `${lines.join('\n')}\n`;
}
