/**
 * Markdown tables of bench rows, one per scenario: each holdline-in-memory figure with its
 * ratio to the raw baseline and to Nchan, each Redis figure with its ratio to memory.
 */
import type { Row } from './measure.js';

type Cell = (row: Row) => number | string | null;

interface Column {
  header: string;
  cell: Cell;
  /** Show holdline's value as a multiple of the baseline's. */
  ratio?: boolean;
  digits?: number;
}

const r = (row: Row) => row.report!;
const s = (row: Row) => row.server!;
const pct = (x: number): number => x * 100;

/** Server CPU per delivered delta, in µs. */
export const cpuPerDeltaUs = (row: Row): number | null =>
  row.report && row.server && row.report.delivered > 0 ? (row.server.cpuSec * 1e6) / row.report.delivered : null;

/** Server memory per held poll, in KiB. */
export const kibPerHold = (row: Row): number | null =>
  row.report && row.server && row.report.connected > 0 ? (row.server.rssHeldKiB - row.server.rssBeforeKiB) / row.report.connected : null;

/**
 * Deltas delivered over what a lossless run delivers (every published update to every joined
 * viewer), at most 1. Nchan's viewers also get the message that opened the channel, not counted.
 */
export const deliveredShare = (row: Row): number | null => {
  if (!row.report || row.report.published === 0 || row.report.connected === 0) return null;
  const got = row.report.delivered - (row.target === 'nchan' ? row.report.connected : 0);
  return Math.min(1, got / (row.report.published * row.report.connected));
};

const serverCpu: Column = { header: 'server CPU %', cell: (x) => pct(s(x).cpuSec / s(x).windowSec), digits: 0 };
const simCpu: Column = { header: 'sim CPU %', cell: (x) => pct(r(x).simulatorCpu), digits: 0 };
const loss: Column = {
  header: 'lost/dup/ooo/behind',
  cell: (x) => `${r(x).gaps}/${r(x).duplicates}/${r(x).outOfOrder}/${r(x).behind}${r(x).resets ? ` (${r(x).resets} resets)` : ''}`,
};
/** Publish acknowledgement, write to 201: how long the publisher waited (issue 16). */
const ack: Column = {
  header: 'publish ack p50 / p99 ms',
  cell: (x) => (r(x).publishLatencyMs.count === 0 ? '—' : `${r(x).publishLatencyMs.p50.toFixed(1)} / ${r(x).publishLatencyMs.p99.toFixed(1)}`),
};
const deliveredPct: Column = { header: 'delivered %', cell: (x) => deliveredShare(x) === null ? null : deliveredShare(x)! * 100, digits: 1 };
const errors: Column = {
  header: 'errors',
  cell: (x) => Object.entries(r(x).errors).map(([k, n]) => `${k}×${n}`).join(' ') || '0',
};

const COLUMNS: Record<string, Column[]> = {
  a: [
    { header: 'connected', cell: (x) => r(x).connected },
    { header: 'all joined after s', cell: (x) => r(x).joinMs / 1000, ratio: true, digits: 1 },
    { header: 'RSS before MiB', cell: (x) => s(x).rssBeforeKiB / 1024, digits: 1 },
    { header: 'RSS held MiB', cell: (x) => s(x).rssHeldKiB / 1024, digits: 1 },
    { header: 'KiB per held poll', cell: kibPerHold, ratio: true, digits: 2 },
    { header: 'idle server CPU %', cell: (x) => pct(s(x).cpuSec / s(x).windowSec), digits: 1 },
    simCpu,
    errors,
  ],
  b: [
    { header: 'p50 ms', cell: (x) => r(x).latencyMs.p50, ratio: true, digits: 1 },
    { header: 'p99 ms', cell: (x) => r(x).latencyMs.p99, ratio: true, digits: 1 },
    { header: 'p99 of each round ms', cell: (x) => (x.p99Runs ? x.p99Runs.map((p) => p.toFixed(1)).join(' / ') : '—') },
    { header: 'max ms', cell: (x) => r(x).latencyMs.max, digits: 0 },
    ack,
    deliveredPct,
    { header: 'delivered/s', cell: (x) => r(x).deliveredPerSec, ratio: true, digits: 0 },
    serverCpu,
    { header: 'µs CPU per delta', cell: cpuPerDeltaUs, ratio: true, digits: 1 },
    loss,
    errors,
    simCpu,
  ],
  c: [
    { header: 'published/s', cell: (x) => r(x).published / (r(x).publishMs / 1000), ratio: true, digits: 0 },
    { header: 'all up to date', cell: (x) => (r(x).behind === 0 && r(x).connected === r(x).viewers ? 'yes' : `no (${r(x).behind} behind)`) },
    { header: 'p50 ms', cell: (x) => r(x).latencyMs.p50, ratio: true, digits: 1 },
    { header: 'p99 ms', cell: (x) => r(x).latencyMs.p99, ratio: true, digits: 1 },
    ack,
    deliveredPct,
    { header: 'delivered/s', cell: (x) => r(x).deliveredPerSec, ratio: true, digits: 0 },
    { header: 'deltas per answer', cell: (x) => r(x).deltasPerAnswer, digits: 2 },
    serverCpu,
    { header: 'µs CPU per delta', cell: cpuPerDeltaUs, ratio: true, digits: 1 },
    loss,
    simCpu,
  ],
  d: [
    { header: 'score p50 ms', cell: (x) => r(x).latencyMs.p50, digits: 1 },
    { header: 'score p99 ms', cell: (x) => r(x).latencyMs.p99, digits: 1 },
    ack,
    {
      header: 'reactions accepted/s (of asked)',
      cell: (x) => {
        const re = r(x).reactions;
        return re ? `${Math.round(re.accepted / (r(x).publishMs / 1000)).toLocaleString('en-US')} (of ${re.rate.toLocaleString('en-US')})` : '—';
      },
    },
    {
      header: 'reaction errors',
      cell: (x) => (r(x).reactions ? Object.entries(r(x).reactions!.errors).map(([k, n]) => `${k}×${n}`).join(' ') || '0' : '—'),
    },
    {
      header: 'log growth',
      cell: (x) => {
        const other = s(x).headSeq - r(x).published;
        return `${s(x).headSeq} deltas: ${r(x).published} scores + ${other} others (${(other / (r(x).publishMs / 1000)).toFixed(1)}/s)`;
      },
    },
    serverCpu,
    loss,
    simCpu,
  ],
  e: [
    { header: 'p50 ms', cell: (x) => r(x).latencyMs.p50, digits: 1 },
    { header: 'p99 ms', cell: (x) => r(x).latencyMs.p99, digits: 1 },
    ack,
    { header: 'delivered/s', cell: (x) => r(x).deliveredPerSec, digits: 0 },
    { header: 'deltas per answer', cell: (x) => r(x).deltasPerAnswer, digits: 2 },
    serverCpu,
    { header: 'µs CPU per delta', cell: cpuPerDeltaUs, digits: 1 },
    loss,
    errors,
    simCpu,
  ],
};

COLUMNS['g'] = [
  { header: 'connected', cell: (x) => r(x).connected },
  { header: 'p50 ms', cell: (x) => (r(x).published === 0 ? null : r(x).latencyMs.p50), ratio: true, digits: 1 },
  { header: 'p99 ms', cell: (x) => (r(x).published === 0 ? null : r(x).latencyMs.p99), ratio: true, digits: 1 },
  deliveredPct,
  serverCpu,
  { header: 'µs CPU per delta', cell: cpuPerDeltaUs, ratio: true, digits: 1 },
  { header: 'KiB per connection', cell: kibPerHold, ratio: true, digits: 2 },
  loss,
  errors,
  simCpu,
];

// (f) is the (b) row on two stores, run once: the same columns but the tail max and the rounds.
// (f), in runs before issue 16: the (b) row on two stores, run once.
COLUMNS['f'] = COLUMNS['b']!.filter((c) => c.header !== 'max ms' && c.header !== 'p99 of each round ms');

function show(value: number | string | null, digits = 0): string {
  if (value === null) return '—';
  if (typeof value === 'string') return value;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The baseline row matching `row` (same scenario and key), if it was measured. */
export function baselineOf(rows: Row[], row: Row): Row | undefined {
  return rows.find((b) => b.target === 'baseline' && b.scenario === row.scenario && b.key === row.key && b.status === 'ok');
}

/** The in-memory holdline row matching a Redis row, for the Redis-to-memory ratio. */
export function memoryOf(rows: Row[], row: Row): Row | undefined {
  return rows.find((b) => b.target === 'holdline' && b.scenario === row.scenario && b.key === row.key && b.status === 'ok');
}

/** The Nchan row matching `row`, if it was measured. */
export function nchanOf(rows: Row[], row: Row): Row | undefined {
  return rows.find((b) => b.target === 'nchan' && b.scenario === row.scenario && b.key === row.key && b.status === 'ok');
}

/** What a row's figures are shown as multiples of: holdline of both references, Redis of memory. */
function referencesOf(rows: Row[], row: Row): Array<{ row: Row; name: string }> {
  const refs: Array<{ row: Row | undefined; name: string }> =
    row.target === 'holdline'
      ? [
          { row: baselineOf(rows, row), name: 'node' },
          { row: nchanOf(rows, row), name: 'nchan' },
        ]
      : row.target === 'holdline-redis'
        ? [{ row: memoryOf(rows, row), name: 'memory' }]
        : [];
  return refs.filter((x): x is { row: Row; name: string } => x.row !== undefined);
}

/** The markdown table for `scenario`. */
export function table(rows: Row[], scenario: string): string {
  const columns = [...(COLUMNS[scenario] ?? []), { header: 'load', cell: (x: Row) => x.load1 ?? null, digits: 1 }];
  // Rows Redis or Nchan skip by design would be noise; a missing Nchan is said in the header.
  const mine = rows.filter((x) => x.scenario === scenario && ((x.target !== 'holdline-redis' && x.target !== 'nchan') || x.status !== 'n/a'));
  const lines = [
    `| row | server | ${columns.map((c) => c.header).join(' | ')} |`,
    `|---|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const row of mine) {
    if (row.status !== 'ok') {
      lines.push(`| ${row.label} | ${row.target} | ${row.status}: ${row.note ?? ''} |${columns.slice(1).map(() => '').join(' |')} |`);
      continue;
    }
    const refs = referencesOf(rows, row);
    const cells = columns.map((c) => {
      const value = c.cell(row);
      const text = show(value, c.digits);
      if (!c.ratio || refs.length === 0 || typeof value !== 'number') return text;
      const ratios = refs.flatMap((ref) => {
        const other = c.cell(ref.row);
        return typeof other === 'number' && other > 0 ? [`${(value / other).toFixed(2)}× ${ref.name}`] : [];
      });
      return ratios.length > 0 ? `${text} (${ratios.join(', ')})` : text;
    });
    lines.push(`| ${row.label} | ${row.target} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
