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

const peerNames = ['bullmq', 'bullmq-fsync', 'pg-boss', 'graphile-worker'];
const peerLabels: Record<string, string> = { bullmq: 'BullMQ', 'bullmq-fsync': 'BullMQ fsync', 'pg-boss': 'pg-boss', 'graphile-worker': 'graphile-worker' };

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
    // Every peer configuration counts: on some runs BullMQ on an fsync-always Redis drains faster than the default one.
    const peers = peerNames.map((p) => ({ p, v: of(workload, p) })).filter((x): x is { p: string; v: number } => x.v !== undefined);
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

/**
 * One bar per workload and peer: how many times better jobshift-embedded is, on a log scale
 * centred on 1× (right of the line: ahead; left: behind). Plain SVG, no dependency.
 */
export function renderChart(result: Result, subjects: string[]): string | null {
  const peers = peerNames.filter((p) => subjects.includes(p));
  const of = (workload: string, subject: string) => result.measurements.find((m) => m.workload === workload && m.subject === subject);
  const bars: { label: string; peer: string; x: number }[] = [];
  for (const workload of [...new Set(result.measurements.map((m) => m.workload))]) {
    const ours = of(workload, 'jobshift-embedded');
    if (!ours) continue;
    for (const peer of peers) {
      const x = advantage(ours.unit, ours.median, of(workload, peer)?.median);
      if (x !== undefined) bars.push({ label: workload, peer, x });
    }
  }
  if (bars.length === 0) return null;
  const width = 1000;
  const labelWidth = 420;
  const valueRoom = 60; // for the figure beside the longest bars
  const row = 18;
  const top = 40;
  const height = top + bars.length * row + 30;
  const span = 4; // log2: from 1/16× to 16×
  const centre = labelWidth + valueRoom + (width - labelWidth - 2 * valueRoom) / 2;
  const scale = (width - labelWidth - 2 * valueRoom) / 2 / span;
  const xOf = (ratio: number) => centre + Math.max(-span, Math.min(span, Math.log2(ratio))) * scale;
  const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const colours: Record<string, string> = { bullmq: '#d9534f', 'bullmq-fsync': '#f0ad4e', 'pg-boss': '#337ab7', 'graphile-worker': '#5cb85c' };
  const lines = bars.map((bar, i) => {
    const y = top + i * row;
    const x = xOf(bar.x);
    const fill = colours[bar.peer] ?? '#777';
    return [
      `<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end">${xml(bar.label)} vs ${bar.peer}</text>`,
      `<rect x="${Math.min(x, centre)}" y="${y + 3}" width="${Math.max(1, Math.abs(x - centre))}" height="${row - 6}" fill="${fill}" opacity="${bar.x >= 1 ? 1 : 0.45}"/>`,
      `<text x="${x + (bar.x >= 1 ? 4 : -4)}" y="${y + 12}" text-anchor="${bar.x >= 1 ? 'start' : 'end'}">${times(bar.x)}</text>`,
    ].join('');
  });
  const ticks = [1 / 16, 1 / 4, 1, 4, 16].map(
    (t) => `<line x1="${xOf(t)}" y1="${top - 6}" x2="${xOf(t)}" y2="${height - 24}" stroke="#ccc"/><text x="${xOf(t)}" y="${height - 10}" text-anchor="middle">${t >= 1 ? t : `1/${1 / t}`}×</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14">jobshift-embedded vs peers (${xml(result.mode)}, ${xml(result.startedAt)}): right of 1× = jobshift better</text>`,
    ...ticks,
    `<line x1="${centre}" y1="${top - 6}" x2="${centre}" y2="${height - 24}" stroke="#333"/>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}

export function renderMarkdown(result: Result, subjects: string[]): string {
  const workloads = [...new Set(result.measurements.map((m) => m.workload))];
  const of = (workload: string, subject: string) => result.measurements.find((m) => m.workload === workload && m.subject === subject)?.median;
  const columns = [...subjects, ...(result.measurements.some((m) => m.subject === 'bare-hono') ? ['bare-hono'] : [])];
  const peers = peerNames.filter((p) => subjects.includes(p));
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
    ...(subjects.includes('bullmq-fsync')
      ? [
          '',
          '`bullmq` is BullMQ as commonly deployed (Redis default persistence: snapshots, so an acknowledged job can be lost on a crash); `bullmq-fsync` is the same on Redis with `appendonly yes` and `appendfsync always`, durable per write like jobshift. The enqueue and latency targets compare with the first; the drain targets with the fastest of all peers.',
        ]
      : []),
    '',
    `| workload | unit | ${columns.join(' | ')} | ${peers.map((p) => `embedded vs ${peerLabels[p] ?? p}`).join(' | ')} |`,
    `|---|---|${columns.map(() => '---:').join('|')}|${peers.map(() => '---:').join('|')}|`,
    ...rows,
    '',
    ...(goals.length > 0
      ? [
          '## Targets (embedded profile)',
          '',
          '| target | measured | met |',
          '|---|---|---|',
          ...goals.map((g) => `| ${g.goal} | ${g.measured} | ${g.met ? 'yes' : '**no**'} |`),
          '',
          ...(goals.some((g) => !g.met)
            ? ['Why the missed targets are missed, from CPU profiles of the hot paths: README, [Benchmarks → Where the time goes](../../README.md#where-the-time-goes).', '']
            : []),
        ]
      : []),
  ].join('\n');
}
