/** The simulator's end-of-run report as text for a terminal. */
import type { SimulationReport } from './options.js';

const fmt = (n: number): string => n.toLocaleString('en-US');
const errorList = (errors: Record<string, number>): string =>
  Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key}×${fmt(n)}`)
    .join(', ') || 'none';

/** Render `report` as the human-readable summary printed at the end of a run. */
export function formatReport(r: SimulationReport): string {
  const lines: string[] = [];
  const verdict = r.ok ? 'OK: every viewer got every delta once, in order' : 'FAILED: see below';
  lines.push(`holdline simulate — ${r.url}, events ${r.events.join(', ')}`);
  lines.push(`  viewers connected   ${fmt(r.connected)} / ${fmt(r.viewers)} in ${(r.joinMs / 1000).toFixed(1)} s`);
  lines.push(`  polls answered      ${fmt(r.pollsAnswered)} (${fmt(r.polls)} sent)`);
  lines.push(
    `  deltas delivered    ${fmt(r.delivered)} (${fmt(r.deliveredPerSec)}/s over ${(r.windowMs / 1000).toFixed(1)} s, ${r.deltasPerAnswer} per answer with news)`,
  );
  lines.push(`  updates published   ${fmt(r.published)}; publish errors: ${errorList(r.publishErrors)}`);
  if (r.reactions) {
    lines.push(`  reactions           ${fmt(r.reactions.accepted)} accepted of ${fmt(r.reactions.sent)}; errors: ${errorList(r.reactions.errors)}`);
  }
  const l = r.latencyMs;
  lines.push(`  fan-out latency ms  p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  (${fmt(l.count)} samples)`);
  const p = r.publishLatencyMs;
  if (p.count > 0) lines.push(`  publish round trip  p50 ${p.p50}  p95 ${p.p95}  p99 ${p.p99}  max ${p.max} ms (write to 201, part of the above)`);
  lines.push(`  gaps ${fmt(r.gaps)}  duplicates ${fmt(r.duplicates)}  out-of-order ${fmt(r.outOfOrder)}  resets ${fmt(r.resets)}  behind at end ${fmt(r.behind)}`);
  lines.push(`  viewer errors       ${errorList(r.errors)}`);
  lines.push(`  simulator CPU       ${(r.simulatorCpu * 100).toFixed(0)}% of one core`);
  if (r.unavailable.length > 0) lines.push(`  not available       ${r.unavailable.join(', ')}`);
  if (r.viewersWithProblems > 0) {
    lines.push(`  per viewer (${fmt(r.viewersWithProblems)} with something to report, first ${r.perViewer.length}):`);
    for (const v of r.perViewer.slice(0, 20)) {
      const state = !v.joined ? ' never joined' : v.behind ? ' behind' : '';
      lines.push(
        `    ${v.id}: gaps ${v.gaps} dup ${v.duplicates} ooo ${v.outOfOrder} resets ${v.resets} errors ${errorList(v.errors)}${state}`,
      );
    }
    if (r.perViewer.length > 20) lines.push(`    … (--json lists up to 100)`);
  }
  lines.push(verdict);
  return lines.join('\n');
}
