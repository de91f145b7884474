/**
 * `simulate()`: ramp up viewers, publish score updates (and reactions) at a fixed rate, wait
 * for every viewer to catch up, then report fan-out latency and per-viewer seq accounting.
 * Everything it opens (sockets, timers) is closed before the promise resolves.
 */
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import type { AppendAnswer } from '../../lib/protocol.js';
import { SourceAddresses } from './http-conn.js';
import { validateOptions, type Phase, type SimulateOptions, type SimulationReport } from './options.js';
import { NCHAN_OPENING, nchanMessage, nchanPubPath } from './nchan.js';
import { PacedSender } from './paced-sender.js';
import { request } from './request.js';
import { REACTION_EMOJI, ScoreFeed, seededRandom } from './score-feed.js';
import { summarize } from './summary.js';
import { Viewer, type ViewerContext } from './viewer.js';

const now = (): number => performance.now();
const wallNow = (): number => performance.timeOrigin + performance.now();
const MAX_PENDING_JOINS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A set-up request (creating an event) the server refused; `status` says why. */
export class SetupError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SetupError';
  }
}

/** Run one simulation against a live server; see the module comment. */
export async function simulate(options: SimulateOptions): Promise<SimulationReport> {
  validateOptions(options);
  const url = new URL(options.url);
  const host = url.hostname;
  const port = Number(url.port || 80);
  const sources = new SourceAddresses(host, options.viewers);
  const events = options.events;
  const authorization = options.token ? `Bearer ${options.token}` : undefined;
  const unavailable = new Set<string>();
  const nchan = options.protocol === 'nchan';
  let phase: Phase = 'joining';
  const enter = (next: Phase): void => {
    phase = next;
    options.onPhase?.(next);
  };

  if (nchan) {
    // Nchan keeps channels by themselves; message 1 opens each (see tools/simulator/nchan.ts).
    for (const event of events) {
      const answer = await request(url, 'POST', nchanPubPath(encodeURIComponent(event)), { body: JSON.parse(NCHAN_OPENING) });
      if (answer.status !== 201 && answer.status !== 202) {
        throw new Error(`POST ${nchanPubPath(event)} answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
      }
    }
  } else if (options.createEvents ?? authorization !== undefined) {
    for (const event of events) {
      const answer = await request(url, 'PUT', `/events/${encodeURIComponent(event)}`, {
        authorization,
        body: { title: `Simulated match ${event}`, sport: 'football', state: 'live' },
      });
      if (answer.status !== 200 && answer.status !== 201) {
        throw new SetupError(answer.status, `PUT /events/${event} answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
      }
    }
  }

  const buildHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  const histogram = buildHistogram();
  // Write to 201 of each score update: how much of the fan-out latency is the publish itself.
  const publishHistogram = buildHistogram();
  const micros = (ms: number): number => Math.max(1, Math.round(ms * 1000));
  let joined = 0;
  let answers = 0;
  let answersWithDeltas = 0;
  let delivered = 0;
  const query = options.kinds && options.kinds.length > 0 ? `&kinds=${options.kinds.join(',')}` : '';
  const maxLatencyMs = options.maxLatencyMs;
  let late = 0;
  const ctx: ViewerContext = {
    host,
    port,
    sources,
    events,
    query,
    requestTail: ` HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`,
    filtered: !nchan && options.kinds !== undefined && options.kinds.length > 0,
    protocol: nchan ? 'nchan' : 'holdline',
    transport: options.transport ?? 'poll',
    filterQuery: options.kinds && options.kinds.length > 0 ? `&kinds=${options.kinds.join(',')}` : '',
    kinds: options.kinds ?? [],
    pollTimeoutMs: (options.holdTimeoutSec ?? 60) * 1000 + 10_000,
    holdMs: options.holdTimeoutSec === undefined ? undefined : Math.round(options.holdTimeoutSec * 1000),
    holds: options.holds ?? {},
    now,
    wallNow,
    recordLatency: (ms) => {
      histogram.recordValue(micros(ms));
      if (maxLatencyMs !== undefined && ms > maxLatencyMs) late += 1;
    },
    answered: (deltas) => {
      answers += 1;
      delivered += deltas;
      if (deltas > 0) answersWithDeltas += 1;
    },
    joined: () => {
      joined += 1;
    },
    unavailable: (feature, status) => {
      unavailable.add(`${feature} (${status})`);
    },
  };
  const prefix = options.viewerPrefix ?? 'v';
  const viewers = Array.from({ length: options.viewers }, (_, i) => new Viewer(ctx, `${prefix}${i}`, i));

  const seed = options.seed ?? 1;
  const feed = new ScoreFeed(events, seed);
  const headSeq = events.map(() => 0);
  const ourSeqs: number[][] = events.map(() => []);
  const publishErrors: Record<string, number> = {};
  let published = 0;
  // Nchan: the seq each update was written with, per event counting on from the opening message.
  const nchanNext = events.map(() => 2);
  const nchanSeqs: number[] = [];
  const count = (into: Record<string, number>, key: string): void => {
    into[key] = (into[key] ?? 0) + 1;
  };
  const publisher = new PacedSender({
    host,
    port,
    hostHeader: url.host,
    sources,
    rate: options.publishRate ?? 0,
    count: options.publishCount,
    durationMs: options.durationMs,
    authorization,
    now,
    // Nchan numbers nothing: one update in flight keeps the seqs we write in the order it stores them.
    ...(nchan ? { maxInFlight: 1 } : {}),
    make: (i) => {
      const event = encodeURIComponent(events[feed.eventOf(i)]!);
      if (!nchan) return { path: `/events/${event}/scores`, body: feed.body(i, wallNow()) };
      const seq = nchanNext[feed.eventOf(i)]!++;
      nchanSeqs[i] = seq;
      const sentAt = wallNow();
      return { path: nchanPubPath(event), body: nchanMessage(seq, sentAt, feed.body(i, sentAt)) };
    },
    onAnswer: (i, status, body, ms) => {
      // Nchan answers 201 when some subscriber was waiting, 202 when it only queued the message.
      const accepted = status === 201 || (nchan && status === 202);
      if (!accepted) return count(publishErrors, status === 0 ? body.toString() : String(status));
      published += 1;
      publishHistogram.recordValue(micros(ms));
      const e = feed.eventOf(i);
      const seq = nchan ? nchanSeqs[i]! : (JSON.parse(body.toString()) as AppendAnswer).seq;
      headSeq[e] = Math.max(headSeq[e]!, seq);
      ourSeqs[e]!.push(seq);
    },
  });

  if (nchan && (options.reactionsRate ?? 0) > 0) unavailable.add('reactions (nchan)');
  const reactions = { rate: options.reactionsRate ?? 0, sent: 0, accepted: 0, errors: {} as Record<string, number> };
  const reactionRandom = seededRandom(seed ^ 0x5eed);
  const reactionIds = Math.max(100, Math.ceil(options.reactionsRate ?? 0));
  const reactor: PacedSender = new PacedSender({
    host,
    port,
    hostHeader: url.host,
    sources,
    rate: options.reactionsRate ?? 0,
    durationMs: options.durationMs,
    now,
    // Reactions are rate limited per identity: rotate viewer ids so none passes ~1/s.
    make: (i) => ({
      path: `/events/${encodeURIComponent(events[i % events.length]!)}/reactions?viewer=r${i % reactionIds}`,
      body: JSON.stringify({ emoji: REACTION_EMOJI[Math.floor(reactionRandom() * REACTION_EMOJI.length)] }),
    }),
    onAnswer: (_i, status, body) => {
      reactions.sent += 1;
      if (status === 202) reactions.accepted += 1;
      else count(reactions.errors, status === 0 ? body.toString() : String(status));
      if ((status === 404 || status === 405) && !unavailable.has(`reactions (${status})`)) {
        unavailable.add(`reactions (${status})`);
        void reactor.stop(0);
      }
    },
  });

  const windowTimes = { start: 0, end: 0 };
  const progressTimer = setInterval(() => {
    options.onProgress?.({
      phase,
      joined,
      viewers: viewers.length,
      delivered,
      published,
      elapsedMs: windowTimes.start === 0 ? 0 : now() - windowTimes.start,
      durationMs: options.durationMs,
    });
  }, 250);
  // One sweep for all client-side poll timeouts instead of a timer per poll.
  const sweepTimer = setInterval(() => {
    const t = now();
    for (const v of viewers) if (v.deadline !== 0 && t > v.deadline) v.conn.abort('timeout');
  }, 1000);

  let cpuWindow = { user: 0, system: 0 };
  let joinMs = 0;
  let publishMs = 0;
  try {
    enter('joining');
    const rampMs = options.rampMs ?? 0;
    const rampStart = now();
    let started = 0;
    while (started < viewers.length && unavailable.size === 0) {
      const due = rampMs === 0 ? viewers.length : Math.min(viewers.length, Math.ceil(((now() - rampStart) / rampMs) * viewers.length));
      // At most MAX_PENDING_JOINS unanswered joins: a deeper burst overflows the server's
      // accept queue, and a dropped SYN is only retried after 1 s, 3 s, 7 s…
      const batchEnd = Math.min(due, started + 500, joined + MAX_PENDING_JOINS);
      while (started < batchEnd) viewers[started++]!.start();
      await sleep(started < due ? 1 : 10);
    }
    const joinDeadline = now() + 15_000 + viewers.length;
    while (joined < viewers.length && now() < joinDeadline && unavailable.size === 0) await sleep(20);
    joinMs = now() - rampStart;
    // The publisher's and reactor's connections are opened now, as a real publisher's is before
    // the match: a handshake with a server busy answering polls can take seconds, and that is
    // not fan-out latency.
    if (unavailable.size === 0) await Promise.all([publisher.prepare(), reactor.prepare()]);
    enter('joined');

    windowTimes.start = now();
    const cpuStart = process.cpuUsage();
    enter('publishing');
    if (unavailable.size === 0) {
      publisher.start();
      reactor.start();
      // A feature the server lacks ends the run early: its figures would mean nothing.
      const publishUntil = now() + options.durationMs;
      while (now() < publishUntil && unavailable.size === 0) await sleep(Math.min(100, publishUntil - now()));
    }
    await Promise.all([publisher.stop(), reactor.stop()]);
    // From the schedule's start to its last answer: the duration unless the server lagged.
    const lastAnswer = Math.max(publisher.lastAnswerAt, reactor.lastAnswerAt);
    publishMs = Math.max(options.durationMs, lastAnswer === 0 ? 0 : lastAnswer - windowTimes.start);

    enter('settling');
    // Someone else published (a chaos run): its heads, as they stand now, are what to reach.
    if (options.heads) (await options.heads()).forEach((head, e) => (headSeq[e] = head));
    const settleDeadline = now() + (options.settleMs ?? 10_000);
    const caughtUp = (): boolean => viewers.every((v) => !v.hasJoined || v.ended || v.upToDate(headSeq));
    while (!caughtUp() && now() < settleDeadline && unavailable.size === 0) await sleep(20);
    windowTimes.end = now();
    const cpu = process.cpuUsage(cpuStart);
    cpuWindow = { user: cpu.user, system: cpu.system };
    enter('settled');
  } finally {
    clearInterval(progressTimer);
    clearInterval(sweepTimer);
    for (const v of viewers) v.stop();
    await Promise.all([publisher.stop(0), reactor.stop(0)]);
  }

  for (const list of ourSeqs) list.sort((a, b) => a - b);
  const report = summarize({
    url: options.url,
    events,
    viewers,
    ourSeqs,
    headSeq,
    histogram,
    publishHistogram,
    counts: { answers, answersWithDeltas, delivered, published },
    publishErrors,
    publishing: (options.publishRate ?? 0) > 0,
    reactions: (options.reactionsRate ?? 0) > 0 ? reactions : null,
    unavailable: [...unavailable],
    windowMs: windowTimes.end - windowTimes.start,
    joinMs,
    publishMs,
    cpuMicros: cpuWindow.user + cpuWindow.system,
    maxLatencyMs,
    late,
  });
  enter('closed');
  return report;
}
