/** The simulator's end-of-run report as text for a terminal. */
import type { SimulationReport } from './options.js';

const fmt = (n: number): string => n.toLocaleString('en-US');
const errorList = (errors: Record<string, number>): string =>
  Object.entries(errors)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key}×${fmt(n)}`)
    .join(', ') || 'none';

/** What made a run fail, one phrase each (empty when it passed). */
export function failures(r: SimulationReport, publishing: boolean): string[] {
  const out: string[] = [];
  if (r.connected < r.viewers) out.push(`${fmt(r.viewers - r.connected)} of ${fmt(r.viewers)} viewers never joined (viewer errors: ${errorList(r.errors)})`);
  if (r.gaps > 0) out.push(`${fmt(r.gaps)} deltas lost`);
  if (r.duplicates > 0) out.push(`${fmt(r.duplicates)} delivered twice`);
  if (r.outOfOrder > 0) out.push(`${fmt(r.outOfOrder)} out of order`);
  if (r.behind > 0) out.push(`${fmt(r.behind)} viewers still behind when the settle wait ended`);
  if (r.unavailable.length > 0) out.push(`the server lacks ${r.unavailable.join(', ')}`);
  if (publishing && r.published === 0) out.push(`no update was accepted (publish errors: ${errorList(r.publishErrors)})`);
  if (r.late > 0 && r.maxLatencyMs !== null) out.push(`${fmt(r.late)} deliveries later than ${fmt(r.maxLatencyMs)} ms (--max-latency)`);
  return out;
}

/**
 * Render `report` as the human-readable summary printed at the end of a run. `publishing`: the
 * run published its own updates (without, latency cannot be measured and says so).
 */
export function formatReport(r: SimulationReport, { publishing = r.published > 0 }: { publishing?: boolean } = {}): string {
  const lines: string[] = [];
  const failed = failures(r, publishing);
  const verdict = r.ok
    ? r.delivered === 0
      ? 'NOTHING MEASURED: no delta was published to these events during the run'
      : `OK: every viewer got every delta once, in order${r.maxLatencyMs === null ? '' : `, none later than ${fmt(r.maxLatencyMs)} ms`}`
    : `FAILED: ${failed.length > 0 ? failed.join('; ') : 'see above'}`;
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
  if (l.count > 0) lines.push(`  time to screen ms   p50 ${l.p50}  p95 ${l.p95}  p99 ${l.p99}  max ${l.max}  (${fmt(l.count)} samples, publish to viewer, cuts included)`);
  else if (!publishing) lines.push(`  time to screen      not measured: only the simulator's own updates are timed (--publish-rate N --token JWT)`);
  else lines.push(`  time to screen      no samples: none of the simulator's updates reached a viewer`);
  const p = r.publishLatencyMs;
  if (p.count > 0) lines.push(`  publish round trip  p50 ${p.p50}  p95 ${p.p95}  p99 ${p.p99}  max ${p.max} ms (write to 201, part of the above)`);
  lines.push(`  gaps ${fmt(r.gaps)}  duplicates ${fmt(r.duplicates)}  out-of-order ${fmt(r.outOfOrder)}  resets ${fmt(r.resets)}  behind at end ${fmt(r.behind)}`);
  lines.push(`  cuts                ${fmt(r.cuts)} polls cut by the path after a long hold, each retried at once (at most ${fmt(r.maxCutsPerViewer)} per viewer)`);
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
