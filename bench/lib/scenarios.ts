/** The bench's fixed scenarios (issue 4), at full size or quick (development) size. */
import type { RowSpec } from './measure.js';

const NO_REACTIONS = 'the baseline implements no reactions';
const NO_MULTI = 'the baseline implements no multi-event poll';
const NCHAN_NO_REACTIONS = 'Nchan has no reactions';
const NCHAN_NO_MULTI = 'Nchan has no multi-event poll';
/** Rows only holdline in memory and the references run, to keep `make bench` near 15 minutes. */
const SHORT = 'not run on Redis, to keep the run short';
/** The rows: each viewer re-polls at once asking for scores only (issue 16). */
const SCORES = ['score'];

/**
 * Every row of one run, in the order they run. The idle, fan-out and 100/s burst rows are the
 * issue's comparison table (issue 16) and run on all four servers: Nchan, the raw baseline,
 * holdline in memory and holdline on Redis.
 */
export function scenarios(quick: boolean): RowSpec[] {
  const rows: RowSpec[] = [];
  const idle = quick
    ? [
        [200, 500],
        [1000, 1000],
      ]
    : [
        [10_000, 5000],
        [19_000, 8000],
      ];
  for (const [i, [holds, rampMs]] of idle.entries()) {
    rows.push({
      scenario: 'a',
      key: String(holds),
      label: `${holds!.toLocaleString('en-US')} held polls`,
      // Every poll stays held: no publishing, a window well inside the 25 s hold.
      sim: { events: ['match-1'], viewers: holds!, rampMs, durationMs: quick ? 3000 : 8000, kinds: SCORES },
      heldSampleMs: quick ? 1500 : 3000,
      // The memory figure is the 10,000 row; the largest is for flatness and the 100,000 arithmetic.
      notIn: i === idle.length - 1 ? { 'holdline-redis': SHORT } : {},
    });
  }
  // 1,000 and 10,000 for 20 s once; 5,000 three times for 10 s, the median round standing (its p99 is the noisiest).
  const fanout = quick ? [[200, 500, 5000, 1]] : [[1000, 1000, 20_000, 1], [5000, 3000, 10_000, 3], [10_000, 5000, 20_000, 1]];
  for (const [viewers, rampMs, durationMs, repeat] of fanout) {
    rows.push({
      scenario: 'b',
      key: String(viewers),
      label: `${viewers!.toLocaleString('en-US')} viewers × 10/s`,
      sim: { events: ['match-1'], viewers: viewers!, rampMs, durationMs: durationMs!, publishRate: 10, kinds: SCORES },
      repeat,
    });
  }
  const burstViewers = quick ? 200 : 1000;
  for (const rate of quick ? [100] : [100, 1000]) {
    rows.push({
      scenario: 'c',
      key: String(rate),
      label: `${burstViewers.toLocaleString('en-US')} viewers × ${rate}/s`,
      sim: { events: ['match-1'], viewers: burstViewers, rampMs: 1000, durationMs: quick ? 3000 : rate === 100 ? 20_000 : 10_000, publishRate: rate, kinds: SCORES },
      notIn: rate === 100 ? {} : { 'holdline-redis': SHORT },
    });
  }
  const floodViewers = quick ? 300 : 5000;
  const floodMs = quick ? 4000 : 15_000;
  rows.push({
    scenario: 'd',
    key: 'control',
    label: `${floodViewers.toLocaleString('en-US')} viewers × 10/s, no reactions`,
    sim: { events: ['match-1'], viewers: floodViewers, rampMs: quick ? 500 : 3000, durationMs: floodMs, publishRate: 10 },
    notIn: { baseline: 'control row for (d); not run for the baseline to keep the run short', nchan: NCHAN_NO_REACTIONS, 'holdline-redis': SHORT },
  });
  const reactionsRate = quick ? 200 : 2000;
  rows.push({
    scenario: 'd',
    key: 'flood',
    label: `${floodViewers.toLocaleString('en-US')} viewers × 10/s + ${reactionsRate.toLocaleString('en-US')} reactions/s`,
    sim: { events: ['match-1'], viewers: floodViewers, rampMs: quick ? 500 : 3000, durationMs: floodMs, publishRate: 10, reactionsRate },
    notIn: { baseline: NO_REACTIONS, nchan: NCHAN_NO_REACTIONS, 'holdline-redis': SHORT },
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
    notIn: { baseline: NO_MULTI, nchan: NCHAN_NO_MULTI, 'holdline-redis': SHORT },
  });
  rows.push(...streamRows(quick));
  return rows;
}

const TRANSPORT_NAMES = { poll: 'long polling', sse: 'SSE', ws: 'WebSocket' } as const;
const NO_STREAMS = 'the baseline implements no streams';
const NCHAN_POLL = "Nchan's long-poll is in (b) and (c)";

/**
 * (g) Streams (issue 19): SSE and WebSocket beside long polling at the fan-out and burst sizes,
 * and idle, for µs per delivered delta and memory per connection; Nchan's EventSource and
 * WebSocket beside them. Short windows: CPU per delta and memory settle within seconds.
 */
function streamRows(quick: boolean): RowSpec[] {
  const rows: RowSpec[] = [];
  const idle = quick ? 500 : 10_000;
  for (const transport of ['sse', 'ws'] as const) {
    rows.push({
      scenario: 'g',
      key: `idle-${transport}`,
      label: `${idle.toLocaleString('en-US')} idle, ${TRANSPORT_NAMES[transport]}`,
      sim: { events: ['match-1'], viewers: idle, rampMs: quick ? 500 : 5000, durationMs: quick ? 2000 : 4000, kinds: SCORES, transport },
      heldSampleMs: quick ? 1000 : 2000,
      notIn: { baseline: NO_STREAMS, 'holdline-redis': SHORT },
    });
  }
  const sizes: Array<[number, number, number]> = quick ? [[200, 10, 500], [200, 100, 500]] : [[1000, 10, 1000], [5000, 10, 3000], [10_000, 10, 5000], [1000, 100, 1000]];
  for (const [viewers, rate, rampMs] of sizes) {
    const size = `${viewers.toLocaleString('en-US')} viewers × ${rate}/s`;
    // Long polling in the same window, so the per-delta ratio is taken like for like (its
    // other sizes are in (b) and (c)).
    const transports = viewers === sizes[0]![0] && rate === sizes[0]![1] ? (['poll', 'sse', 'ws'] as const) : (['sse', 'ws'] as const);
    for (const transport of transports) {
      rows.push({
        scenario: 'g',
        key: `${viewers}x${rate}-${transport}`,
        label: `${size}, ${TRANSPORT_NAMES[transport]}`,
        sim: { events: ['match-1'], viewers, rampMs, durationMs: quick ? 3000 : 8000, publishRate: rate, kinds: SCORES, transport },
        heldSampleMs: quick ? 1500 : 4000,
        notIn: {
          baseline: NO_STREAMS,
          ...(transport === 'poll' ? { nchan: NCHAN_POLL } : {}),
          // One Redis row: a stream on Redis works as a poll does (the rest are the memory store's).
          ...(transport === 'ws' && viewers === sizes[0]![0] && rate === sizes[0]![1] ? {} : { 'holdline-redis': SHORT }),
        },
      });
    }
  }
  return rows;
}

/** What each scenario is, for the results file. */
export const SCENARIO_TITLES: Record<string, string> = {
  a: '(a) Idle hold: memory per held poll and idle CPU',
  b: '(b) Fan-out: one event, 10 score updates/s, viewers polling with kinds=score',
  c: '(c) Burst: 1,000 viewers polling with kinds=score, fast publishing',
  d: '(d) Reaction flood: score fan-out while reactions pour in',
  e: '(e) Multi-event: each viewer follows 8 events in one poll',
  g: '(g) Streams: SSE and WebSocket beside long polling (kinds=score); Nchan EventSource and WebSocket',
  // Runs before issue 16 had Redis in a row of its own; kept so --render still shows them.
  f: '(f) Redis vs in memory: the same fan-out row on both stores (ratio: Redis to memory)',
};
