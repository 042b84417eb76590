// jobshift benchmarks, side by side with BullMQ (Redis), pg-boss and graphile-worker (PostgreSQL), in one run.
// Usage: npm run bench -- --help
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startHttpTargets } from './lib/http.js';
import { root } from './lib/processes.js';
import type { RealJobType } from './lib/real-work.js';
import { realWork } from './lib/real-work.js';
import { renderChart, renderMarkdown } from './lib/report.js';
import type { Measurement, Unit } from './lib/report.js';
import { bullmqSubject } from './subjects/bullmq.js';
import { graphileSubject } from './subjects/graphile.js';
import { jobshiftSubject } from './subjects/jobshift.js';
import { pgbossSubject } from './subjects/pgboss.js';
import type { Subject } from './subjects/types.js';

const allWorkloads = ['enqueue', 'drain', 'latency', 'http', 'work', 'scale'];
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    jobs: { type: 'string' },
    seconds: { type: 'string' },
    scale: { type: 'string' },
    'work-jobs': { type: 'string' },
    subjects: { type: 'string', default: 'jobshift-embedded,jobshift-postgres,bullmq,bullmq-fsync,pg-boss,graphile-worker' },
    workloads: { type: 'string', default: allWorkloads.join(',') },
    out: { type: 'string', default: join(root, 'bench/results') },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`jobshift benchmarks: jobshift (embedded, postgres) beside BullMQ, pg-boss and graphile-worker, on this machine, in one run.

npm run bench -- [options]
  --quick             smaller sizes and shorter durations (under 5 minutes)
  --runs N            runs per measurement, median reported (default 3)
  --jobs N            jobs per enqueue/drain run (default 5000/20000; quick 500/1000)
  --seconds S         duration of each latency and HTTP run (default 20; quick 3)
  --scale a,b,c       queued backlogs for the scale workload (default 1000,100000,1000000; quick 1000,20000)
  --work-jobs N       jobs per real-work run (default 200; quick 40)
  --subjects list     jobshift-embedded,jobshift-postgres,bullmq,bullmq-fsync,pg-boss,graphile-worker
                      (bullmq-fsync: Redis with appendonly yes, appendfsync always, for the duration)
  --workloads list    ${allWorkloads.join(',')}
  --out dir           where <timestamp>.json/.md and latest.md go (default bench/results)
`);
  process.exit(0);
}

const quick = args.quick === true;
const runs = Number(args.runs ?? 3);
const enqueueJobs = Number(args.jobs ?? (quick ? 500 : 5000));
const drainJobs = Number(args.jobs ?? (quick ? 1000 : 20_000));
const seconds = Number(args.seconds ?? (quick ? 3 : 20));
const scaleSizes = (args.scale ?? (quick ? '1000,20000' : '1000,100000,1000000')).split(',').map(Number);
const workJobs = Number(args['work-jobs'] ?? (quick ? 40 : 200));
const latencyRate = 200;
for (const [name, value] of Object.entries({ runs, jobs: enqueueJobs, seconds, 'work-jobs': workJobs })) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number`);
}
if (scaleSizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('--scale: expected whole numbers of at least 100, comma-separated');
const workloads = new Set((args.workloads as string).split(',').filter(Boolean));
for (const w of workloads) if (!allWorkloads.includes(w)) throw new Error(`--workloads: unknown workload '${w}' (known: ${allWorkloads.join(', ')})`);

const started = Date.now();
const progress = (line: string) =>
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} +${Math.round((Date.now() - started) / 1000)}s ${line}\n`);

const services = (command: string) => execFileSync('bash', [join(root, 'scripts/services.sh'), command], { encoding: 'utf8' }).trim();
progress(services('start-pg'));
progress(services('start-redis'));
const databaseUrl = `postgres://postgres@127.0.0.1:${process.env.JOBSHIFT_TEST_PG_PORT ?? 55432}/postgres`;
const redisPort = Number(process.env.JOBSHIFT_BENCH_REDIS_PORT ?? 56379);

const factories: Record<string, () => Subject> = {
  'jobshift-embedded': () => jobshiftSubject('embedded'),
  'jobshift-postgres': () => jobshiftSubject('postgres', databaseUrl),
  bullmq: () => bullmqSubject(redisPort),
  'bullmq-fsync': () => bullmqSubject(redisPort, { fsync: true }),
  'pg-boss': () => pgbossSubject(databaseUrl),
  'graphile-worker': () => graphileSubject(databaseUrl),
};
const chosen = (args.subjects as string).split(',').filter(Boolean);
for (const name of chosen) if (!factories[name]) throw new Error(`--subjects: unknown subject '${name}' (known: ${Object.keys(factories).join(', ')})`);

const measurements: Measurement[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const round = (x: number) => (x >= 100 ? Math.round(x) : Math.round(x * 100) / 100);

function record(workload: string, subject: string, unit: Unit, values: number[]) {
  const m: Measurement = { workload, subject, unit, runs: values.map(round), median: round(median(values)), min: round(Math.min(...values)), max: round(Math.max(...values)) };
  measurements.push(m);
  progress(`${workload.padEnd(44)} ${subject.padEnd(18)} median ${m.median} ${unit} (${m.min}–${m.max})`);
}

/**
 * Runs `body` `runs` times after a reset (and `prepare`), recording jobs/s. One unrecorded
 * warm-up at a tenth of the size comes first, so no subject is measured with a cold JIT.
 */
async function throughput(workload: string, subject: Subject, jobs: number, prepare: ((n: number) => Promise<void>) | null, body: (n: number) => Promise<void>) {
  const warmUp = Math.max(50, Math.ceil(jobs / 10));
  await subject.reset();
  if (prepare) await prepare(warmUp);
  await body(warmUp);
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    await subject.reset();
    if (prepare) await prepare(jobs);
    const t0 = performance.now();
    await body(jobs);
    rates.push(jobs / ((performance.now() - t0) / 1000));
  }
  record(workload, subject.name, 'jobs/s', rates);
}

const subjects = chosen.map((name) => (factories[name] as () => Subject)());
const described: Record<string, unknown> = {};
for (const subject of subjects) {
  described[subject.name] = await subject.describe();
  if (workloads.has('enqueue')) {
    await throughput('enqueue awaited one by one', subject, enqueueJobs, null, (n) => subject.enqueue(n, 1));
    await throughput('enqueue 50 in flight', subject, enqueueJobs, null, (n) => subject.enqueue(n, 50));
    await throughput('enqueue bulk (1,000 per call)', subject, enqueueJobs, null, (n) => subject.enqueueBulk(n));
  }
  if (workloads.has('drain')) {
    for (const concurrency of [1, 10, 100]) {
      await throughput(`drain no-op, concurrency ${concurrency}`, subject, drainJobs, (n) => subject.enqueueBulk(n), (n) => subject.drain(n, concurrency));
    }
  }
  if (workloads.has('latency')) {
    const p50: number[] = [];
    const p95: number[] = [];
    const p99: number[] = [];
    await subject.reset();
    await subject.latency(latencyRate, 1, 10); // warm-up, not recorded
    for (let run = 0; run < runs; run++) {
      await subject.reset();
      const delays = await subject.latency(latencyRate, seconds, 10);
      p50.push(percentile(delays, 50));
      p95.push(percentile(delays, 95));
      p99.push(percentile(delays, 99));
    }
    record(`submit→start p50 at ${latencyRate} jobs/s`, subject.name, 'ms', p50);
    record(`submit→start p95 at ${latencyRate} jobs/s`, subject.name, 'ms', p95);
    record(`submit→start p99 at ${latencyRate} jobs/s`, subject.name, 'ms', p99);
  }
  if (workloads.has('scale')) {
    for (const size of scaleSizes) {
      await subject.reset();
      progress(`${subject.name}: filling a backlog of ${size.toLocaleString('en-US')} jobs`);
      await subject.enqueueBulk(size);
      const perJob: number[] = [];
      const rates: number[] = [];
      const sample = Math.min(500, Math.floor(size / 4));
      const drainSample = Math.min(quick ? 2000 : 5000, Math.floor(size / 2));
      // Before each measurement the backlog is topped up to its size (drains may take a few more than asked).
      const topUp = async () => {
        const missing = size - (await subject.backlog());
        if (missing > 0) await subject.enqueueBulk(missing);
      };
      for (let run = 0; run < runs; run++) {
        await topUp();
        let t0 = performance.now();
        await subject.drain(sample, 1);
        perJob.push((performance.now() - t0) / sample);
        await topUp();
        t0 = performance.now();
        await subject.drain(drainSample, 100);
        rates.push(drainSample / ((performance.now() - t0) / 1000));
      }
      const label = size >= 1_000_000 ? `${size / 1_000_000}M` : size >= 1000 ? `${size / 1000}k` : String(size);
      record(`claim+complete per job, concurrency 1, ${label} queued`, subject.name, 'ms', perJob);
      record(`drain no-op, concurrency 100, ${label} queued`, subject.name, 'jobs/s', rates);
    }
  }
  await subject.close();
}

const extra: Record<string, unknown> = {};
if (workloads.has('http')) {
  const targets = await startHttpTargets();
  try {
    const api: { rps: number[]; p99: number[] } = { rps: [], p99: [] };
    const bare: { rps: number[]; p99: number[] } = { rps: [], p99: [] };
    for (let run = 0; run < runs; run++) {
      for (const [figures, hit] of [
        [bare, targets.bare],
        [api, targets.jobshift],
      ] as const) {
        const result = await hit(seconds);
        figures.rps.push(result.requestsPerSecond);
        figures.p99.push(result.p99Ms);
      }
    }
    record('HTTP POST /v1/jobs, 50 connections', 'jobshift-embedded', 'req/s', api.rps);
    record('HTTP POST /v1/jobs, 50 connections', 'bare-hono', 'req/s', bare.rps);
    record('HTTP POST /v1/jobs p99, 50 connections', 'jobshift-embedded', 'ms', api.p99);
    record('HTTP POST /v1/jobs p99, 50 connections', 'bare-hono', 'ms', bare.p99);
  } finally {
    await targets.close();
  }
}
if (workloads.has('work')) {
  for (const type of ['document.pdf', 'image.thumbnail'] as RealJobType[]) {
    for (const processes of [1, 2]) {
      const rates: number[] = [];
      const rss: number[] = [];
      for (let run = 0; run < runs; run++) {
        const result = await realWork(type, workJobs, processes);
        rates.push(result.jobsPerSecond);
        rss.push(result.peakRssBytes / 1024 / 1024);
        extra.workerConcurrency = result.concurrency;
      }
      const which = `${type}, ${processes} worker process${processes > 1 ? 'es' : ''}`;
      record(`real work: ${which}`, 'jobshift-embedded', 'jobs/s', rates);
      record(`peak worker RSS: ${which}`, 'jobshift-embedded', 'MiB', rss);
    }
  }
}

const result = {
  startedAt: new Date(started).toISOString(),
  durationSeconds: Math.round((Date.now() - started) / 1000),
  mode: quick ? 'quick' : 'full',
  runsPerMeasurement: runs,
  settings: { enqueueJobs, drainJobs, latencyRatePerSecond: latencyRate, latencySeconds: seconds, latencyConcurrency: 10, httpSeconds: seconds, httpConnections: 50, scaleSizes, workJobs, ...extra },
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemoryBytes: totalmem(), freeMemoryBytes: freemem(), node: process.version },
  versions: {
    postgres: execFileSync('psql', [databaseUrl, '-Atc', 'show server_version'], { encoding: 'utf8' }).trim(),
    redis: execFileSync('redis-cli', ['-p', String(redisPort), 'info', 'server'], { encoding: 'utf8' }).match(/redis_version:(\S+)/)?.[1],
  },
  subjects: described,
  measurements,
};
const stamp = result.startedAt.replace(/[:.]/g, '-');
const chart = renderChart(result, chosen);
const markdown = renderMarkdown(result, chosen) + (chart ? `\n![jobshift-embedded vs peers](${stamp}.svg)\n` : '');
mkdirSync(args.out as string, { recursive: true });
if (chart) writeFileSync(join(args.out as string, `${stamp}.svg`), chart);
writeFileSync(join(args.out as string, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(args.out as string, `${stamp}.md`), markdown);
writeFileSync(join(args.out as string, 'latest.md'), markdown);
process.stdout.write(markdown);
process.exit(0);
