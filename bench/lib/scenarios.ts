/** The bench's fixed scenarios (issue 4), at full size or quick (development) size. */
import type { RowSpec } from './measure.js';

const NO_REACTIONS = 'the baseline implements no reactions';
const NO_MULTI = 'the baseline implements no multi-event poll';
/** Rows (a)–(e) compare holdline in memory with the baseline; Redis has its own row (f). */
const MEMORY_ONLY = 'runs only row (f), the Redis comparison';

/** Every row of one run, in the order they run. */
export function scenarios(quick: boolean): RowSpec[] {
  const rows: RowSpec[] = [];
  const idle = quick
    ? [
        [200, 500],
        [1000, 1000],
      ]
    : [
        [1000, 1000],
        [10_000, 5000],
        [19_000, 8000],
      ];
  for (const [holds, rampMs] of idle) {
    rows.push({
      scenario: 'a',
      key: String(holds),
      label: `${holds!.toLocaleString('en-US')} held polls`,
      // Every poll stays held: no publishing, a window well inside the 25 s hold.
      sim: { events: ['match-1'], viewers: holds!, rampMs, durationMs: quick ? 3000 : 8000 },
      heldSampleMs: quick ? 1500 : 3000,
    });
  }
  const fanout = quick ? [[200, 500]] : [[1000, 1000], [10_000, 5000]];
  for (const [viewers, rampMs] of fanout) {
    rows.push({
      scenario: 'b',
      key: String(viewers),
      label: `${viewers!.toLocaleString('en-US')} viewers × 10/s`,
      sim: { events: ['match-1'], viewers: viewers!, rampMs, durationMs: quick ? 5000 : 30_000, publishRate: 10 },
      // The p99 targets are read off these rows: three rounds, the median stands.
      repeat: quick ? 1 : 3,
    });
  }
  const burstViewers = quick ? 200 : 1000;
  for (const rate of quick ? [100] : [100, 1000]) {
    rows.push({
      scenario: 'c',
      key: String(rate),
      label: `${burstViewers.toLocaleString('en-US')} viewers × ${rate}/s`,
      sim: { events: ['match-1'], viewers: burstViewers, rampMs: 1000, durationMs: quick ? 3000 : 10_000, publishRate: rate },
    });
  }
  const floodViewers = quick ? 300 : 5000;
  const floodMs = quick ? 4000 : 20_000;
  rows.push({
    scenario: 'd',
    key: 'control',
    label: `${floodViewers.toLocaleString('en-US')} viewers × 10/s, no reactions`,
    sim: { events: ['match-1'], viewers: floodViewers, rampMs: quick ? 500 : 3000, durationMs: floodMs, publishRate: 10 },
    notIn: { baseline: 'control row for (d); not run for the baseline to keep the run short' },
  });
  const reactionsRate = quick ? 200 : 2000;
  rows.push({
    scenario: 'd',
    key: 'flood',
    label: `${floodViewers.toLocaleString('en-US')} viewers × 10/s + ${reactionsRate.toLocaleString('en-US')} reactions/s`,
    sim: { events: ['match-1'], viewers: floodViewers, rampMs: quick ? 500 : 3000, durationMs: floodMs, publishRate: 10, reactionsRate },
    notIn: { baseline: NO_REACTIONS },
  });
  const multiViewers = quick ? 200 : 2000;
  rows.push({
    scenario: 'e',
    key: '8',
    label: `${multiViewers.toLocaleString('en-US')} viewers × 8 events, 10/s in all`,
    sim: {
      events: Array.from({ length: 8 }, (_, i) => `match-${i + 1}`),
      viewers: multiViewers,
      rampMs: quick ? 500 : 2000,
      durationMs: quick ? 4000 : 20_000,
      publishRate: 10,
    },
    notIn: { baseline: NO_MULTI },
  });
  for (const row of rows) row.notIn = { 'holdline-redis': MEMORY_ONLY, ...row.notIn };
  const redisViewers = quick ? 200 : 1000;
  rows.push({
    scenario: 'f',
    key: String(redisViewers),
    label: `${redisViewers.toLocaleString('en-US')} viewers × 10/s`,
    sim: { events: ['match-1'], viewers: redisViewers, rampMs: 1000, durationMs: quick ? 5000 : 20_000, publishRate: 10 },
    notIn: { baseline: 'the baseline has no shared store' },
  });
  return rows;
}

/** What each scenario is, for the results file. */
export const SCENARIO_TITLES: Record<string, string> = {
  a: '(a) Idle hold: memory per held poll and idle CPU',
  b: '(b) Fan-out: one event, 10 score updates/s',
  c: '(c) Burst: 1,000 viewers, fast publishing',
  d: '(d) Reaction flood: score fan-out while reactions pour in',
  e: '(e) Multi-event: each viewer follows 8 events in one poll',
  f: '(f) Redis vs in memory: the same fan-out row on both stores (ratio: Redis to memory)',
};
