export type Unit = 'jobs/s' | 'req/s' | 'ms' | 'MiB';

export interface Measurement {
  workload: string;
  subject: string;
  unit: Unit;
  runs: number[];
  median: number;
  min: number;
  max: number;
}

interface Result {
  startedAt: string;
  durationSeconds: number;
  mode: string;
  runsPerMeasurement: number;
  machine: { cpus: number; cpuModel?: string | undefined; node: string };
  versions: { postgres: string; redis?: string | undefined };
  measurements: Measurement[];
}

const higherIsBetter = (unit: Unit) => unit === 'jobs/s' || unit === 'req/s';
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: n >= 100 ? 0 : 2 });
const times = (x: number) => `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;

/** How many times better jobshift-embedded is than `peer` on this row (above 1 = jobshift better). */
function advantage(unit: Unit, ours: number | undefined, peer: number | undefined): number | undefined {
  if (ours === undefined || peer === undefined || ours <= 0 || peer <= 0) return undefined;
  return higherIsBetter(unit) ? ours / peer : peer / ours;
}

interface Target {
  goal: string;
  measured: string;
  met: boolean;
}

function targets(of: (workload: string, subject: string) => number | undefined, workloads: string[]): Target[] {
  const out: Target[] = [];
  const ours = 'jobshift-embedded';
  const add = (goal: string, have: number | undefined, need: number | undefined, describe: (have: number, need: number) => string, met: (have: number, need: number) => boolean) => {
    if (have === undefined || need === undefined) return;
    out.push({ goal, measured: describe(have, need), met: met(have, need) });
  };
  const ratioOf = (have: number, need: number) => `${fmt(have)} vs ${fmt(need)}`;
  add('enqueue, 50 in flight ≥ 3× BullMQ', of('enqueue 50 in flight', ours), of('enqueue 50 in flight', 'bullmq'), (h, n) => `${ratioOf(h, n)} jobs/s = ${times(h / n)}`, (h, n) => h >= 3 * n);
  add('bulk enqueue ≥ BullMQ bulk', of('enqueue bulk (1,000 per call)', ours), of('enqueue bulk (1,000 per call)', 'bullmq'), (h, n) => `${ratioOf(h, n)} jobs/s = ${times(h / n)}`, (h, n) => h >= n);
  for (const [concurrency, factor] of [
    [100, 1.5],
    [1, 1],
  ] as const) {
    const workload = `drain no-op, concurrency ${concurrency}`;
    const peers = ['bullmq', 'pg-boss'].map((p) => ({ p, v: of(workload, p) })).filter((x): x is { p: string; v: number } => x.v !== undefined);
    const fastest = peers.sort((a, b) => b.v - a.v)[0];
    add(`drain, concurrency ${concurrency} ≥ ${factor}× the fastest peer${fastest ? ` (${fastest.p})` : ''}`, of(workload, ours), fastest?.v, (h, n) => `${ratioOf(h, n)} jobs/s = ${times(h / n)}`, (h, n) => h >= factor * n);
  }
  const p99 = workloads.find((w) => w.startsWith('submit→start p99'));
  if (p99) add(`${p99}: no worse than BullMQ`, of(p99, ours), of(p99, 'bullmq'), (h, n) => `${fmt(h)} vs ${fmt(n)} ms`, (h, n) => h <= n);
  const http = 'HTTP POST /v1/jobs, 50 connections';
  add('HTTP submit ≥ 50% of the bare endpoint', of(http, ours), of(http, 'bare-hono'), (h, n) => `${ratioOf(h, n)} req/s = ${Math.round((100 * h) / n)}%`, (h, n) => h >= 0.5 * n);
  const claims = workloads.filter((w) => w.startsWith('claim+complete per job'));
  const first = claims[0];
  const last = claims.at(-1);
  if (first && last && first !== last) {
    add(
      `claim latency with ${last.split(', ').at(-1)} within 2× of ${first.split(', ').at(-1)}`,
      of(last, ours),
      of(first, ours),
      (h, n) => `${fmt(h)} vs ${fmt(n)} ms per job = ${times(h / n)}`,
      (h, n) => h <= 2 * n,
    );
  }
  return out;
}

export function renderMarkdown(result: Result, subjects: string[]): string {
  const workloads = [...new Set(result.measurements.map((m) => m.workload))];
  const of = (workload: string, subject: string) => result.measurements.find((m) => m.workload === workload && m.subject === subject)?.median;
  const columns = [...subjects, ...(result.measurements.some((m) => m.subject === 'bare-hono') ? ['bare-hono'] : [])];
  const peers = ['bullmq', 'pg-boss'].filter((p) => subjects.includes(p));
  const rows = workloads.map((workload) => {
    const unit = result.measurements.find((m) => m.workload === workload)?.unit as Unit;
    const cells = columns.map((s) => {
      const m = result.measurements.find((x) => x.workload === workload && x.subject === s);
      return m ? `${fmt(m.median)}${result.runsPerMeasurement > 1 ? ` <sub>${fmt(m.min)}–${fmt(m.max)}</sub>` : ''}` : '–';
    });
    const ratios = peers.map((p) => {
      const x = advantage(unit, of(workload, 'jobshift-embedded'), of(workload, p));
      return x === undefined ? '–' : times(x);
    });
    return `| ${workload} | ${unit}${higherIsBetter(unit) ? ' ↑' : ' ↓'} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`;
  });
  const goals = targets(of, workloads);
  return [
    `# jobshift benchmarks (${result.mode}, ${result.startedAt})`,
    '',
    `${result.machine.cpus} × ${result.machine.cpuModel}, Node ${result.machine.node}, PostgreSQL ${result.versions.postgres}, Redis ${result.versions.redis}; ` +
      `median of ${result.runsPerMeasurement} run${result.runsPerMeasurement > 1 ? 's' : ''} (min–max in small print); the whole run took ${result.durationSeconds} s.`,
    '',
    '↑ higher is better, ↓ lower is better. The last columns say how many times better jobshift-embedded (SQLite, synchronous=FULL: every 202 is on disk) is than each peer on that row: above 1× it is ahead, below 1× behind.',
    '',
    `| workload | unit | ${columns.join(' | ')} | ${peers.map((p) => `embedded vs ${p === 'bullmq' ? 'BullMQ' : p}`).join(' | ')} |`,
    `|---|---|${columns.map(() => '---:').join('|')}|${peers.map(() => '---:').join('|')}|`,
    ...rows,
    '',
    ...(goals.length > 0
      ? ['## Targets (embedded profile)', '', '| target | measured | met |', '|---|---|---|', ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`), '']
      : []),
  ].join('\n');
}
