// jobshift benchmarks, side by side with BullMQ (Redis) and pg-boss (PostgreSQL), in one run.
// Usage: npm run bench [-- --quick] [--runs N] [--subjects a,b] [--workloads enqueue,drain] [--out dir]
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bullmqSubject } from './subjects/bullmq.js';
import { jobshiftSubject } from './subjects/jobshift.js';
import { pgbossSubject } from './subjects/pgboss.js';
import type { Subject } from './subjects/types.js';

const root = join(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    jobs: { type: 'string' },
    subjects: { type: 'string', default: 'jobshift-embedded,jobshift-postgres,bullmq,pg-boss' },
    workloads: { type: 'string', default: 'enqueue,drain' },
    out: { type: 'string', default: join(root, 'bench/results') },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`npm run bench -- [--quick] [--runs 3] [--jobs N] [--subjects list] [--workloads enqueue,drain] [--out dir]\n`);
  process.exit(0);
}

const runs = Number(args.runs ?? 3);
const enqueueJobs = Number(args.jobs ?? (args.quick ? 500 : 5000));
const drainJobs = Number(args.jobs ?? (args.quick ? 1000 : 20_000));
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

const services = (command: string) => execFileSync('bash', [join(root, 'scripts/services.sh'), command], { encoding: 'utf8' }).trim();
progress(services('start-pg'));
progress(services('start-redis'));
const databaseUrl = `postgres://postgres@127.0.0.1:${process.env.JOBSHIFT_TEST_PG_PORT ?? 55432}/postgres`;
const redisPort = Number(process.env.JOBSHIFT_BENCH_REDIS_PORT ?? 56379);

const factories: Record<string, () => Subject> = {
  'jobshift-embedded': () => jobshiftSubject('embedded'),
  'jobshift-postgres': () => jobshiftSubject('postgres', databaseUrl),
  bullmq: () => bullmqSubject(redisPort),
  'pg-boss': () => pgbossSubject(databaseUrl),
};
const chosen = (args.subjects as string).split(',').filter(Boolean);
for (const name of chosen) if (!factories[name]) throw new Error(`--subjects: unknown subject '${name}' (known: ${Object.keys(factories).join(', ')})`);

interface Measurement {
  workload: string;
  subject: string;
  unit: 'jobs/s';
  runs: number[];
  median: number;
  min: number;
  max: number;
}
const measurements: Measurement[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function measure(workload: string, subject: Subject, jobs: number, prepare: (() => Promise<void>) | null, body: () => Promise<void> | null) {
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    await subject.reset();
    if (prepare) await prepare();
    const started = performance.now();
    const work = body();
    if (work === null) return;
    await work;
    rates.push(Math.round(jobs / ((performance.now() - started) / 1000)));
  }
  const m: Measurement = { workload, subject: subject.name, unit: 'jobs/s', runs: rates, median: median(rates), min: Math.min(...rates), max: Math.max(...rates) };
  measurements.push(m);
  progress(`${workload.padEnd(28)} ${subject.name.padEnd(18)} median ${m.median} jobs/s (${m.min}–${m.max})`);
}

const workloads = new Set((args.workloads as string).split(','));
const subjects = chosen.map((name) => (factories[name] as () => Subject)());
const described: Record<string, unknown> = {};
for (const subject of subjects) {
  described[subject.name] = await subject.describe();
  if (workloads.has('enqueue')) {
    await measure('enqueue awaited one by one', subject, enqueueJobs, null, () => subject.enqueue(enqueueJobs, 1));
    await measure('enqueue 50 in flight', subject, enqueueJobs, null, () => subject.enqueue(enqueueJobs, 50));
    await measure('enqueue bulk', subject, enqueueJobs, null, () => subject.enqueueBulk(enqueueJobs));
  }
  if (workloads.has('drain')) {
    for (const concurrency of [1, 10, 100]) {
      await measure(`drain no-op, concurrency ${concurrency}`, subject, drainJobs, () => subject.enqueue(drainJobs, 50), () => subject.drain(drainJobs, concurrency));
    }
  }
  await subject.close();
}

const peers = ['bullmq', 'pg-boss'];
const rows = [...new Set(measurements.map((m) => m.workload))].map((workload) => {
  const of = (subject: string) => measurements.find((m) => m.workload === workload && m.subject === subject)?.median;
  const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(2)}×` : '–');
  const cells = chosen.map((s) => of(s)?.toLocaleString('en-US') ?? '–');
  return `| ${workload} | ${cells.join(' | ')} | ${peers.map((p) => ratio(of('jobshift-embedded'), of(p))).join(' | ')} |`;
});
const result = {
  startedAt: new Date().toISOString(),
  mode: args.quick ? 'quick' : 'full',
  runsPerMeasurement: runs,
  jobs: { enqueue: enqueueJobs, drain: drainJobs },
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, totalMemoryBytes: totalmem(), freeMemoryBytes: freemem(), node: process.version },
  versions: {
    postgres: execFileSync('psql', [databaseUrl, '-Atc', 'show server_version'], { encoding: 'utf8' }).trim(),
    redis: execFileSync('redis-cli', ['-p', String(redisPort), 'info', 'server'], { encoding: 'utf8' }).match(/redis_version:(\S+)/)?.[1],
  },
  subjects: described,
  measurements,
};
const markdown = [
  `# jobshift benchmarks (${result.mode}, ${result.startedAt})`,
  '',
  `${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}, PostgreSQL ${result.versions.postgres}, Redis ${result.versions.redis}; median of ${runs} runs, jobs/s (higher is better).`,
  '',
  `| workload | ${chosen.join(' | ')} | embedded ÷ BullMQ | embedded ÷ pg-boss |`,
  `|---|${chosen.map(() => '---:').join('|')}|---:|---:|`,
  ...rows,
  '',
].join('\n');
mkdirSync(args.out as string, { recursive: true });
const stamp = result.startedAt.replace(/[:.]/g, '-');
writeFileSync(join(args.out as string, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(args.out as string, `${stamp}.md`), markdown);
writeFileSync(join(args.out as string, 'latest.md'), markdown);
process.stdout.write(markdown);
process.exit(0);
