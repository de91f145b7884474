import { expect } from 'chai';
import { compareRuns } from '../../bench/lib/compare.js';
import type { Row } from '../../bench/lib/measure.js';

/** A fan-out row with just the fields the comparison reads. */
function fanOut(target: Row['target'], p99: number, cpuSec: number, delivered: number): Row {
  return {
    scenario: 'b', key: '1000', label: '1,000 viewers × 10/s', target, status: 'ok',
    report: { latencyMs: { p99 }, deliveredPerSec: delivered / 30, delivered } as unknown as Row['report'],
    server: { cpuSec } as unknown as Row['server'],
  };
}

describe('bench before/after table (bench/lib/compare.ts)', () => {
  it('sets each holdline figure of this run beside the same row of the earlier run, with the ratio', () => {
    const before = { label: 'morning', rows: [fanOut('holdline', 136, 26.1, 300_000), fanOut('baseline', 29, 14.7, 300_000)] };
    const lines = compareRuns(before, [fanOut('holdline', 68, 15, 300_000), fanOut('baseline', 30, 14, 300_000)]);
    expect(lines[0]).to.include('before (morning)');
    const body = lines.slice(2);
    expect(body, 'baseline rows are not compared').to.have.length(3);
    expect(body[0]).to.equal('| 1,000 viewers × 10/s | holdline | p99 ms (lower is better) | 136.0 | 68.0 | 0.50× |');
    expect(body[1]).to.equal('| 1,000 viewers × 10/s | holdline | µs CPU per delta (lower is better) | 87.0 | 50.0 | 0.57× |');
    expect(body[2]).to.include('| 10,000 | 10,000 | 1.00× |');
  });

  it('says so when no row matches', () => {
    expect(compareRuns({ label: 'x', rows: [] }, [fanOut('holdline', 1, 1, 1)])).to.deep.equal(['No row of this run was in the earlier one.']);
  });
});
