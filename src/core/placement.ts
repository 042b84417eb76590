import type { JobNeeds } from './define-job.js';

export const Runtime = { lambda: 'lambda', fargate: 'fargate', ec2: 'ec2' } as const;
export type Runtime = (typeof Runtime)[keyof typeof Runtime];
export const runtimes = Object.values(Runtime);

/** AWS Lambda's hard limits: 15 minutes, 10,240 MB. */
export const lambdaLimits = { maxDurationSeconds: 900, maxMemoryMb: 10_240 } as const;
/** "Fits well inside" Lambda's limits: half of them, leaving room for retries and slow starts. */
const comfortable = { durationSeconds: lambdaLimits.maxDurationSeconds / 2, memoryMb: lambdaLimits.maxMemoryMb / 2 };
/** Fargate tasks offer at most 120 GB of memory and no GPU. */
const fargateMaxMemoryMb = 120 * 1024;

export interface Placement {
  runtime: Runtime;
  reason: string;
  overridden: boolean;
}

export class PlacementError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
    this.name = 'PlacementError';
  }
}

/** What rules out each runtime for these needs (empty: it can run there). */
export function blockers(needs: JobNeeds): Record<Runtime, string[]> {
  const duration = needs.expectedDurationSeconds;
  const memory = needs.memoryMb;
  const hostLevel = [needs.gpu ? 'a GPU' : '', needs.hostAgents ? 'host agents or kernel modules' : ''].filter(Boolean);
  const lambda = [
    ...hostLevel.map((h) => `needs ${h}`),
    duration !== undefined && duration > lambdaLimits.maxDurationSeconds ? `expects ${duration}s, over Lambda's ${lambdaLimits.maxDurationSeconds}s limit` : '',
    memory !== undefined && memory > lambdaLimits.maxMemoryMb ? `needs ${memory} MB, over Lambda's ${lambdaLimits.maxMemoryMb} MB limit` : '',
  ].filter(Boolean);
  const fargate = [
    ...hostLevel.map((h) => `needs ${h}, which Fargate does not offer`),
    memory !== undefined && memory > fargateMaxMemoryMb ? `needs ${memory} MB, over Fargate's ${fargateMaxMemoryMb} MB` : '',
  ].filter(Boolean);
  return { lambda, fargate, ec2: [] };
}

/**
 * The placement rules of ARCHITECTURE.md: host-level needs → ECS on EC2 (AMI); long or
 * CPU-heavy → Fargate; short and bursty → Lambda. Anything else defaults to Fargate, the
 * container that runs anywhere. An override is honoured unless the runtime cannot do the job.
 */
export function placeJobType(type: string, needs: JobNeeds, override?: Runtime): Placement {
  const blocked = blockers(needs);
  if (override) {
    const reasons = blocked[override];
    if (reasons.length > 0) throw new PlacementError(type, `cannot run on ${override}: ${reasons.join('; ')}`);
    return { runtime: override, reason: 'explicit placement', overridden: true };
  }
  if (needs.gpu || needs.hostAgents) {
    return { runtime: 'ec2', reason: `${blocked.fargate.join('; ')}: ECS on EC2 from a purpose-built AMI`, overridden: false };
  }
  const duration = needs.expectedDurationSeconds;
  const memory = needs.memoryMb;
  if (blocked.lambda.length > 0) return { runtime: 'fargate', reason: blocked.lambda.join('; '), overridden: false };
  if (needs.cpuHeavy) return { runtime: 'fargate', reason: 'CPU-heavy: a container keeps its cores for the whole run', overridden: false };
  if (duration !== undefined && duration > comfortable.durationSeconds) {
    return { runtime: 'fargate', reason: `long-running (${duration}s does not fit well inside Lambda's 15 minutes)`, overridden: false };
  }
  if (memory !== undefined && memory > comfortable.memoryMb) {
    return { runtime: 'fargate', reason: `large (${memory} MB does not fit well inside Lambda's 10 GB)`, overridden: false };
  }
  if (needs.bursty && duration !== undefined) {
    return { runtime: 'lambda', reason: `short (${duration}s) and bursty: scales to zero and out per message`, overridden: false };
  }
  return { runtime: 'fargate', reason: 'no expected duration or burstiness declared: the container default', overridden: false };
}
