/** Turns the viewers' counters and the latency histogram into a SimulationReport. */
import type { Histogram } from 'hdr-histogram-js';
import type { LatencySummary, SimulationReport, ViewerProblem } from './options.js';
import type { Viewer } from './viewer.js';

/** Everything simulate() gathered, as summarize() needs it. */
export interface SummaryInput {
  url: string;
  events: string[];
  viewers: Viewer[];
  /** Sorted seqs of our own updates, per event. */
  ourSeqs: number[][];
  headSeq: number[];
  histogram: Histogram;
  /** Round trips of our accepted score updates (write to 201). */
  publishHistogram: Histogram;
  counts: { answers: number; answersWithDeltas: number; delivered: number; published: number };
  publishErrors: Record<string, number>;
  publishing: boolean;
  reactions: SimulationReport['reactions'];
  unavailable: string[];
  windowMs: number;
  publishMs: number;
  joinMs: number;
  cpuMicros: number;
  maxLatencyMs?: number | undefined;
  /** Deliveries later than maxLatencyMs. */
  late?: number;
}

const MAX_LISTED = 100;

/** Count the sorted `seqs` in (from, to]. */
function countBetween(seqs: number[], from: number, to: number): number {
  const upper = (x: number): number => {
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqs[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return to <= from ? 0 : upper(to) - upper(from);
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Percentiles in ms of a histogram recorded in µs (all zero when it is empty). */
function latencySummary(h: Histogram): LatencySummary {
  const ms = (micros: number): number => round(micros / 1000);
  if (h.totalCount === 0) return { p50: 0, p95: 0, p99: 0, max: 0, count: 0 };
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    count: h.totalCount,
  };
}

/** Build the report; see the module comment. */
export function summarize(input: SummaryInput): SimulationReport {
  const errors: Record<string, number> = {};
  const perViewer: ViewerProblem[] = [];
  let gaps = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let resets = 0;
  let connected = 0;
  let behind = 0;
  let polls = 0;
  let cuts = 0;
  let maxCuts = 0;
  let withProblems = 0;
  for (const v of input.viewers) {
    polls += v.polls;
    cuts += v.cuts;
    maxCuts = Math.max(maxCuts, v.cuts);
    if (v.hasJoined) connected += 1;
    const late = v.hasJoined && !v.ended && !v.upToDate(input.headSeq);
    if (late) behind += 1;
    const mine = { gaps: 0, duplicates: 0, outOfOrder: 0, resets: 0 };
    v.tracks.forEach((t, i) => {
      const seqs = input.ourSeqs[i] ?? [];
      t.finish((from, to) => countBetween(seqs, from, to));
      mine.gaps += t.gaps;
      mine.duplicates += t.duplicates;
      mine.outOfOrder += t.outOfOrder;
      mine.resets += t.resets;
    });
    gaps += mine.gaps;
    duplicates += mine.duplicates;
    outOfOrder += mine.outOfOrder;
    resets += mine.resets;
    for (const [key, n] of Object.entries(v.errors ?? {})) errors[key] = (errors[key] ?? 0) + n;
    const troubled =
      mine.gaps + mine.duplicates + mine.outOfOrder + mine.resets > 0 || v.errors !== null || late || !v.hasJoined;
    if (!troubled) continue;
    withProblems += 1;
    if (perViewer.length < MAX_LISTED) {
      perViewer.push({ id: v.id, ...mine, errors: { ...(v.errors ?? {}) }, cuts: v.cuts, joined: v.hasJoined, behind: late });
    }
  }
  const latencyMs = latencySummary(input.histogram);
  const publishLatencyMs = latencySummary(input.publishHistogram);
  const { answers, answersWithDeltas, delivered, published } = input.counts;
  const headSeq: Record<string, number> = {};
  input.events.forEach((e, i) => (headSeq[e] = input.headSeq[i] ?? 0));
  const seconds = input.windowMs / 1000;
  const ok =
    gaps === 0 &&
    duplicates === 0 &&
    outOfOrder === 0 &&
    behind === 0 &&
    connected === input.viewers.length &&
    input.unavailable.length === 0 &&
    (!input.publishing || published > 0) &&
    (input.late ?? 0) === 0;
  return {
    url: input.url,
    events: input.events,
    viewers: input.viewers.length,
    connected,
    joinMs: Math.round(input.joinMs),
    polls,
    pollsAnswered: answers,
    delivered,
    deliveredPerSec: seconds > 0 ? Math.round(delivered / seconds) : 0,
    deltasPerAnswer: answersWithDeltas > 0 ? round(delivered / answersWithDeltas) : 0,
    gaps,
    duplicates,
    outOfOrder,
    resets,
    errors,
    cuts,
    maxCutsPerViewer: maxCuts,
    behind,
    latencyMs,
    maxLatencyMs: input.maxLatencyMs ?? null,
    late: input.late ?? 0,
    publishLatencyMs,
    published,
    publishErrors: input.publishErrors,
    headSeq,
    reactions: input.reactions,
    unavailable: input.unavailable,
    windowMs: Math.round(input.windowMs),
    publishMs: Math.round(input.publishMs),
    simulatorCpu: seconds > 0 ? round(input.cpuMicros / 1e6 / seconds) : 0,
    viewersWithProblems: withProblems,
    perViewer,
    ok,
  };
}
