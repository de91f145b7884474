import { expect } from 'chai';
import type { Row } from '../../bench/lib/measure.js';
import { verdicts } from '../../bench/lib/verdicts.js';

interface Figures {
  p99?: number;
  cpuSec?: number;
  delivered?: number;
  connected?: number;
  grownKiB?: number;
  gaps?: number;
  published?: number;
  ackP99?: number;
}

/** A row with just the fields the verdicts read. */
function row(scenario: string, key: string, target: Row['target'], x: Figures): Row {
  return {
    scenario, key, label: `${scenario}/${key}`, target, status: 'ok',
    report: {
      latencyMs: { p99: x.p99 ?? 0 }, delivered: x.delivered ?? 0, deliveredPerSec: (x.delivered ?? 0) / 30,
      published: x.published ?? (x.delivered ?? 0) / (x.connected ?? 1000), publishLatencyMs: { p50: 1, p99: x.ackP99 ?? 5 },
      connected: x.connected ?? 1000, gaps: x.gaps ?? 0, duplicates: 0, outOfOrder: 0, behind: 0,
    } as unknown as Row['report'],
    server: { cpuSec: x.cpuSec ?? 0, rssBeforeKiB: 50_000, rssHeldKiB: 50_000 + (x.grownKiB ?? 0), windowSec: 10 } as unknown as Row['server'],
  };
}

/**
 * A run in which holdline beats every target: 40 ms, 25 µs per delta, 10 KiB per held poll; on
 * Redis within the issue-16 ratios of memory, and in memory within them of Nchan's.
 * `over` keys are `scenario/key` (in memory) or `scenario/key/redis`.
 */
function run(over: Partial<Record<string, Figures>> = {}): Row[] {
  const both = (scenario: string, key: string, mine: Figures, theirs: Figures): Row[] => [
    row(scenario, key, 'holdline', { ...mine, ...over[`${scenario}/${key}`] }),
    row(scenario, key, 'baseline', theirs),
    row(scenario, key, 'holdline-redis', { ...mine, ...over[`${scenario}/${key}/redis`] }),
    row(scenario, key, 'nchan', theirs),
  ];
  return [
    ...both('a', '10000', { connected: 10_000, grownKiB: 100_000 }, { connected: 10_000, grownKiB: 100_000 }),
    ...both('a', '19000', { connected: 19_000, grownKiB: 190_000 }, { connected: 19_000, grownKiB: 190_000 }),
    ...both('b', '1000', { p99: 40, cpuSec: 7.5, delivered: 300_000 }, { p99: 40, cpuSec: 9, delivered: 300_000 }),
    ...both('b', '5000', { p99: 300, delivered: 1e6, connected: 5000 }, { p99: 300, delivered: 1e6, connected: 5000 }),
    ...both('b', '10000', { p99: 900, delivered: 3e6, connected: 10_000 }, { p99: 900, delivered: 3e6, connected: 10_000 }),
    ...both('c', '100', { p99: 200, delivered: 3e6 }, { p99: 200, delivered: 3e6 }),
    row('d', 'control', 'holdline', { p99: 100 }),
    row('d', 'flood', 'holdline', { p99: 120 }),
    // (g) streams: 10 µs per delta against polling's 25, 10 KiB per idle connection.
    row('g', '1000x10-poll', 'holdline', { p99: 40, cpuSec: 7.5, delivered: 300_000, ...over['g/1000x10-poll'] }),
    row('g', '1000x10-ws', 'holdline', { p99: 30, cpuSec: 3, delivered: 300_000, ...over['g/1000x10-ws'] }),
    row('g', '1000x10-sse', 'holdline', { p99: 30, cpuSec: 3, delivered: 300_000, ...over['g/1000x10-sse'] }),
    row('g', 'idle-ws', 'holdline', { connected: 10_000, grownKiB: 100_000, ...over['g/idle-ws'] }),
    row('g', 'idle-sse', 'holdline', { connected: 10_000, grownKiB: 100_000, ...over['g/idle-sse'] }),
  ];
}

describe('bench targets (bench/lib/verdicts.ts)', () => {
  it('marks every target met when the run beats each of them', () => {
    const lines = verdicts(run());
    expect(lines.filter((l) => !l.startsWith('- ✅')), lines.join('\n')).to.deep.equal([]);
    expect(lines.some((l) => l.includes('ahead of Socket.IO polling'))).to.equal(true);
    expect(lines.some((l) => l.includes('ahead of Faye'))).to.equal(true);
  });

  it('holds the streams to half of long polling\'s CPU per delta and 12 KiB per idle connection', () => {
    const lines = verdicts(run({ 'g/1000x10-ws': { cpuSec: 4.5, delivered: 300_000 }, 'g/idle-sse': { connected: 10_000, grownKiB: 150_000 } }));
    expect(lines).to.include('- ❌ WebSocket CPU per delivered delta at 1,000 × 10/s: 15.0 µs, 0.60× long polling\'s 25.0 µs (target ≤ 0.5×), 20% over');
    expect(lines).to.include('- ❌ memory per idle SSE connection at g/idle-sse: 15.00 KiB (target ≤ 12 KiB), 25% over');
    expect(lines.find((l) => l.includes('SSE CPU per delivered delta'))).to.match(/^- ✅ /);
  });

  it('says by how much an absolute target is missed', () => {
    const lines = verdicts(run({ 'b/1000': { p99: 75 } }));
    expect(lines).to.include('- ❌ p99 at 1,000 viewers × 10/s: 75.0 ms (target ≤ 50 ms), 50% over');
  });

  it('is behind a field server on a row where holdline is slower than it, and names the row', () => {
    const lines = verdicts(run({ 'b/1000': { p99: 130, cpuSec: 7.5, delivered: 300_000 } }));
    const socketIo = lines.find((l) => l.includes('Socket.IO'))!;
    const faye = lines.find((l) => l.includes('Faye'))!;
    expect(socketIo).to.match(/^- ❌ /).and.to.include('behind on: p99 at 1,000 × 10/s');
    expect(socketIo).to.include('130.0 vs 112.0 ms');
    expect(faye, '130 ms is still ahead of 165').to.match(/^- ✅ /);
  });

  it('does not count a fast burst p99 as ahead when the burst lost deltas', () => {
    const lines = verdicts(run({ 'c/100': { p99: 200, delivered: 3e6, gaps: 3 } }));
    expect(lines.find((l) => l.includes('Faye'))).to.match(/^- ❌ /).and.to.include('behind on: p99 at 100/s, all delivered');
    expect(lines[0]).to.match(/^- ❌ lost\/duplicated\/out-of-order deltas in: \(c\)/);
  });

  it('checks the publish acknowledgement of the 100/s burst on both stores', () => {
    const lines = verdicts(run({ 'c/100/redis': { p99: 200, delivered: 3e6, ackP99: 75 } }));
    expect(lines).to.include('- ❌ c/100 on Redis: publish ack p99 75.0 ms (p50 1.0 ms; target ≤ 50 ms), 50% over');
    expect(lines).to.include('- ✅ c/100 in memory: publish ack p99 5.0 ms (p50 1.0 ms; target ≤ 50 ms)');
  });

  it('measures the fan-out against Nchan and the raw baseline of the same run, and Redis against memory', () => {
    const lines = verdicts(run({ 'b/5000': { p99: 600, delivered: 1e6, connected: 5000 }, 'b/10000/redis': { p99: 2000, delivered: 3e6, connected: 10_000 } }));
    expect(lines).to.include("- ❌ 5,000 × 10/s in memory vs Nchan: p99 600.0 ms (target ≤ 1.5× Nchan's 300.0 ms = 450.0 ms), 33% over");
    expect(lines).to.include("- ❌ 10,000 × 10/s on Redis vs in memory: p99 2,000.0 ms (target ≤ 2× memory's 900.0 ms = 1,800.0 ms), 11% over");
    expect(lines).to.include("- ✅ 1,000 × 10/s on Redis vs Nchan: p99 40.0 ms (target ≤ Nchan's 40.0 ms + 10 ms = 50.0 ms)");
  });

  it('does not call a row 100 % delivered when a viewer missed updates', () => {
    const lines = verdicts(run({ 'b/10000/redis': { p99: 900, delivered: 2.4e6, published: 300, connected: 10_000 } }));
    expect(lines).to.include('- ❌ 10,000 × 10/s on Redis: 80.0 % delivered, lost/dup/ooo/behind 0/0/0/0 (target 100 %, none)');
  });

  it('leaves an issue-16 line unmarked when Nchan did not run', () => {
    const lines = verdicts(run().filter((x) => x.target !== 'nchan'));
    expect(lines.find((l) => l.includes('5,000 × 10/s in memory vs Nchan'))).to.match(/^- ➖ /);
  });

  it('leaves a field line unmarked when a row it needs was not measured', () => {
    const lines = verdicts(run().filter((x) => x.scenario !== 'c'));
    expect(lines.find((l) => l.includes('Faye'))).to.match(/^- ➖ /).and.to.include('p99 at 100/s, all delivered not measured');
  });
});
