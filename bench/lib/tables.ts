/** Markdown tables of bench rows, one per scenario, each holdline figure with its ratio to the baseline. */
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

const serverCpu: Column = { header: 'server CPU %', cell: (x) => pct(s(x).cpuSec / s(x).windowSec), digits: 0 };
const simCpu: Column = { header: 'sim CPU %', cell: (x) => pct(r(x).simulatorCpu), digits: 0 };
const loss: Column = {
  header: 'lost/dup/ooo/behind',
  cell: (x) => `${r(x).gaps}/${r(x).duplicates}/${r(x).outOfOrder}/${r(x).behind}${r(x).resets ? ` (${r(x).resets} resets)` : ''}`,
};
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
    { header: 'p99 ms', cell: (x) => r(x).latencyMs.p99, ratio: true, digits: 1 },
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
    { header: 'delivered/s', cell: (x) => r(x).deliveredPerSec, digits: 0 },
    { header: 'deltas per answer', cell: (x) => r(x).deltasPerAnswer, digits: 2 },
    serverCpu,
    { header: 'µs CPU per delta', cell: cpuPerDeltaUs, digits: 1 },
    loss,
    errors,
    simCpu,
  ],
};

// (f) is the (b) row on two stores, run once: the same columns but the tail max and the rounds.
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
function memoryOf(rows: Row[], row: Row): Row | undefined {
  return rows.find((b) => b.target === 'holdline' && b.scenario === row.scenario && b.key === row.key && b.status === 'ok');
}

/** The markdown table for `scenario`. */
export function table(rows: Row[], scenario: string): string {
  const columns = [...(COLUMNS[scenario] ?? []), { header: 'load', cell: (x: Row) => x.load1 ?? null, digits: 1 }];
  // The Redis target runs only its own row (f); its n/a lines elsewhere would be noise.
  const mine = rows.filter((x) => x.scenario === scenario && (x.target !== 'holdline-redis' || x.status !== 'n/a'));
  const lines = [
    `| row | server | ${columns.map((c) => c.header).join(' | ')} |`,
    `|---|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const row of mine) {
    if (row.status !== 'ok') {
      lines.push(`| ${row.label} | ${row.target} | ${row.status}: ${row.note ?? ''} |${columns.slice(1).map(() => '').join(' |')} |`);
      continue;
    }
    const base = row.target === 'holdline' ? baselineOf(rows, row) : row.target === 'holdline-redis' ? memoryOf(rows, row) : undefined;
    const cells = columns.map((c) => {
      const value = c.cell(row);
      const text = show(value, c.digits);
      if (!c.ratio || !base || typeof value !== 'number') return text;
      const other = c.cell(base);
      return typeof other === 'number' && other > 0 ? `${text} (${(value / other).toFixed(2)}×)` : text;
    });
    lines.push(`| ${row.label} | ${row.target} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
