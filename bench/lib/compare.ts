/** The "before and after" section: holdline's key figures in an earlier run's JSON against this run's. */
import type { Row } from './measure.js';
import { cpuPerDeltaUs, kibPerHold } from './tables.js';

/** An earlier run, as bench/run.ts writes it beside the markdown. */
export interface EarlierRun {
  label: string;
  rows: Row[];
}

interface Figure {
  name: string;
  value: (row: Row) => number | null;
  digits: number;
  /** Whether a smaller value is the better one. */
  lower: boolean;
}

const FIGURES: Record<string, Figure[]> = {
  a: [{ name: 'KiB per held poll', value: kibPerHold, digits: 2, lower: true }],
  default: [
    { name: 'p99 ms', value: (x) => x.report?.latencyMs.p99 ?? null, digits: 1, lower: true },
    { name: 'µs CPU per delta', value: cpuPerDeltaUs, digits: 1, lower: true },
    { name: 'delivered/s', value: (x) => x.report?.deliveredPerSec ?? null, digits: 0, lower: false },
  ],
};

const fmt = (x: number, digits: number): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Markdown lines: one table row per holdline row and figure found in both runs. */
export function compareRuns(before: EarlierRun, after: Row[]): string[] {
  const out = [
    `| row | server | figure | before (${before.label}) | after (this run) | after / before |`,
    '|---|---|---|---:|---:|---:|',
  ];
  for (const row of after) {
    if (row.status !== 'ok' || row.target === 'baseline') continue;
    const earlier = before.rows.find((x) => x.scenario === row.scenario && x.key === row.key && x.target === row.target && x.status === 'ok');
    if (!earlier) continue;
    for (const f of FIGURES[row.scenario] ?? FIGURES['default']!) {
      const a = f.value(earlier);
      const b = f.value(row);
      if (a === null || b === null) continue;
      const ratio = a === 0 ? '—' : `${(b / a).toFixed(2)}×`;
      out.push(`| ${row.label} | ${row.target} | ${f.name} (${f.lower ? 'lower' : 'higher'} is better) | ${fmt(a, f.digits)} | ${fmt(b, f.digits)} | ${ratio} |`);
    }
  }
  return out.length > 2 ? out : ['No row of this run was in the earlier one.'];
}
