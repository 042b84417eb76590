import { describe, expect, it } from 'vitest';
import { builtinJobs } from '../jobs/index.js';
import type { JobNeeds } from './define-job.js';
import type { Runtime } from './placement.js';
import { PlacementError, placeJobType } from './placement.js';

describe('placeJobType (the rules of ARCHITECTURE.md)', () => {
  it.each<[string, JobNeeds, Runtime, RegExp]>([
    ['short and bursty', { expectedDurationSeconds: 5, bursty: true }, 'lambda', /short/],
    ['bursty but 10 minutes', { expectedDurationSeconds: 600, bursty: true }, 'fargate', /long-running/],
    ['over 15 minutes', { expectedDurationSeconds: 2400 }, 'fargate', /over Lambda's 900s/],
    ['CPU-heavy', { expectedDurationSeconds: 30, cpuHeavy: true, bursty: true }, 'fargate', /CPU-heavy/],
    ['12 GB', { expectedDurationSeconds: 5, memoryMb: 12_288, bursty: true }, 'fargate', /10240 MB/],
    ['8 GB', { expectedDurationSeconds: 5, memoryMb: 8192, bursty: true }, 'fargate', /large/],
    ['GPU', { expectedDurationSeconds: 5, gpu: true, bursty: true }, 'ec2', /GPU.*AMI/],
    ['host agents', { hostAgents: true }, 'ec2', /host agents/],
    ['nothing declared', {}, 'fargate', /container default/],
  ])('%s → %s', (_name, needs, runtime, reason) => {
    const placement = placeJobType('t.x', needs);
    expect(placement.runtime).toBe(runtime);
    expect(placement.reason).toMatch(reason);
  });

  it('honours possible overrides and rejects impossible ones with the reason', () => {
    expect(placeJobType('t.x', { expectedDurationSeconds: 5, bursty: true }, 'fargate')).toEqual({ runtime: 'fargate', reason: 'explicit placement', overridden: true });
    expect(() => placeJobType('report.big', { expectedDurationSeconds: 2400 }, 'lambda')).toThrow(
      new PlacementError('report.big', "cannot run on lambda: expects 2400s, over Lambda's 900s limit"),
    );
    expect(() => placeJobType('t.gpu', { gpu: true }, 'fargate')).toThrow(/cannot run on fargate: needs a GPU, which Fargate does not offer/);
  });

  it('places the built-in types as documented', () => {
    expect(Object.fromEntries(builtinJobs.map((d) => [d.type, placeJobType(d.type, d.needs).runtime]))).toEqual({
      'document.pdf': 'lambda',
      'image.thumbnail': 'lambda',
      'csv.transform': 'fargate',
    });
  });
});
