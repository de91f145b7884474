/** The simulator's options and its report: the public shape of `simulate()`. */
import { DELTA_KINDS } from '../../lib/protocol.js';

/** A moment in a simulation's life, for callers that measure the server alongside. */
export type Phase = 'joining' | 'joined' | 'publishing' | 'settling' | 'settled' | 'closed';

/** What `simulate()` is asked to do. */
export interface SimulateOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Event ids every viewer follows; several means one multi-event poll (`/poll?subs=`). */
  events: string[];
  /** Concurrent viewers, one keep-alive socket each. */
  viewers: number;
  /** Viewers join evenly spread over this long. @default 0 */
  rampMs?: number;
  /** How long to publish (and keep polling) once every viewer has joined. */
  durationMs: number;
  /** Score updates per second, all events together, round robin. @default 0 */
  publishRate?: number;
  /** Stop publishing after this many updates (deterministic test runs). */
  publishCount?: number;
  /** Publisher JWT for PUT /events and POST …/scores. */
  token?: string;
  /** Anonymous reactions per second, spread over the events. @default 0 */
  reactionsRate?: number;
  /** `kinds=` for every poll; gaps are then checked against the simulator's own updates. */
  kinds?: string[];
  /** Seed of the update schedule and contents. @default 1 */
  seed?: number;
  /**
   * Pins `timeout=` (seconds) for every poll, as the browser client's holdMs option does; unset,
   * each viewer fits its hold to the path as the browser client does (starting from the
   * server's advertised default).
   */
  holdTimeoutSec?: number;
  /** The browser client's hold options for every viewer (floor, probe interval, cut threshold). */
  holds?: { floorMs?: number; probeMs?: number; cutMinMs?: number };
  /** The verdict fails when any of our updates reaches a viewer later than this (ms, publish to screen). */
  maxLatencyMs?: number;
  /** Longest wait, after publishing stops, for every viewer to catch up. @default 10_000 */
  settleMs?: number;
  /** PUT each event (live, football) before starting. @default true when a token is given */
  createEvents?: boolean;
  /**
   * The server's protocol: holdline's (and the bench baseline's), or Nchan's multipart
   * long-polling (`/pub/:id`, `/sub/:id`; tools/simulator/nchan.ts), for the bench's C reference.
   * @default 'holdline'
   */
  protocol?: 'holdline' | 'nchan';
  /**
   * How viewers follow: long polling, SSE, WebSocket, or `auto` (join by long polling, then move
   * to a WebSocket at the cursor, else SSE, else stay on polling), with the same accounting.
   * @default 'poll'
   */
  transport?: 'poll' | 'sse' | 'ws' | 'auto';
  /** Viewer ids are `<prefix><n>`. @default 'v' */
  viewerPrefix?: string;
  /** Told when a phase starts (synchronously, so a caller can sample the server there). */
  onPhase?: (phase: Phase) => void;
  /**
   * The events' heads (in `events` order) when publishing ends, for runs where someone else
   * publishes (make chaos): settling waits for every viewer to reach them, and `behind` counts
   * those that did not.
   */
  heads?: () => Promise<number[]>;
  /** Called about four times a second while running. */
  onProgress?: (progress: Progress) => void;
}

/** A live view of a running simulation, for progress bars. */
export interface Progress {
  phase: Phase;
  joined: number;
  viewers: number;
  delivered: number;
  published: number;
  /** ms since publishing started (0 before). */
  elapsedMs: number;
  durationMs: number;
}

/** Fan-out latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

/** One viewer that lost, repeated or reordered something, or saw errors. */
export interface ViewerProblem {
  id: string;
  gaps: number;
  duplicates: number;
  outOfOrder: number;
  resets: number;
  errors: Record<string, number>;
  cuts: number;
  joined: boolean;
  behind: boolean;
}

/** What `simulate()` found. */
export interface SimulationReport {
  url: string;
  events: string[];
  viewers: number;
  /** Viewers whose join was answered. */
  connected: number;
  /** From the first viewer's start until every viewer had joined (or the join wait ended). */
  joinMs: number;
  polls: number;
  pollsAnswered: number;
  /** Deltas delivered, summed over viewers. */
  delivered: number;
  deliveredPerSec: number;
  /** Deltas per answer that carried any. */
  deltasPerAnswer: number;
  gaps: number;
  duplicates: number;
  outOfOrder: number;
  resets: number;
  /** All viewers' errors by HTTP status or socket error code (cuts are counted apart). */
  errors: Record<string, number>;
  /** Polls the path cut after a long hold (a proxy's 502/504, a connection closed), each retried at once. */
  cuts: number;
  /** The most cuts any one viewer saw. */
  maxCutsPerViewer: number;
  /** Viewers still behind the newest published seq when the settle wait ended. */
  behind: number;
  /** Time to screen: from our update's write to the viewer's answer, cuts and retries included. */
  latencyMs: LatencySummary;
  /** The bound asked for with maxLatencyMs (null when none), and how many deliveries exceeded it. */
  maxLatencyMs: number | null;
  late: number;
  /** Our score updates' own round trips, write to 201: the part of `latencyMs` spent publishing. */
  publishLatencyMs: LatencySummary;
  published: number;
  publishErrors: Record<string, number>;
  /** Newest seq the server gave our updates, per event. */
  headSeq: Record<string, number>;
  /** `rate`: asked per second; `sent`: answered, any status; `accepted`: 202. */
  reactions: { rate: number; sent: number; accepted: number; errors: Record<string, number> } | null;
  /** Protocol features the server does not offer (answered 404/405). */
  unavailable: string[];
  /** From the start of publishing until every viewer caught up (or the settle wait ended). */
  windowMs: number;
  /** From the start of publishing until the last update and reaction was answered. */
  publishMs: number;
  /** Cores this process used during the window (1 = one whole core). */
  simulatorCpu: number;
  viewersWithProblems: number;
  /** At most 100 of them. */
  perViewer: ViewerProblem[];
  /**
   * No delta lost, duplicated or reordered, every viewer joined and caught up, (when asked to
   * publish) at least one update accepted, and none delivered later than maxLatencyMs.
   */
  ok: boolean;
}

/** Check options; throws an Error naming the first bad one. */
export function validateOptions(o: SimulateOptions): void {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new Error(`url must be a URL like http://127.0.0.1:8080, got "${o.url}"`);
  }
  if (url.protocol !== 'http:') throw new Error(`url must be http://… (the simulator speaks plain HTTP/1.1), got ${o.url}`);
  if (o.events.length === 0) throw new Error('at least one event is needed');
  if (new Set(o.events).size !== o.events.length) throw new Error('an event is given twice');
  const counts: Array<[string, number | undefined]> = [
    ['viewers', o.viewers],
    ['rampMs', o.rampMs],
    ['durationMs', o.durationMs],
    ['publishRate', o.publishRate],
    ['publishCount', o.publishCount],
    ['reactionsRate', o.reactionsRate],
    ['holdTimeoutSec', o.holdTimeoutSec],
    ['settleMs', o.settleMs],
    ['maxLatencyMs', o.maxLatencyMs],
  ];
  for (const [name, value] of counts) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new Error(`${name} must be a non-negative number, got ${value}`);
    }
  }
  if (!Number.isInteger(o.viewers) || o.viewers < 1) throw new Error(`viewers must be a positive integer, got ${o.viewers}`);
  if (o.protocol !== undefined && o.protocol !== 'holdline' && o.protocol !== 'nchan') throw new Error(`protocol must be holdline or nchan, got ${String(o.protocol)}`);
  if (o.transport !== undefined && !['poll', 'sse', 'ws', 'auto'].includes(o.transport)) throw new Error(`transport must be poll, sse, ws or auto, got ${String(o.transport)}`);
  if (o.protocol === 'nchan' && o.transport === 'auto') throw new Error('the nchan protocol takes transport poll, sse or ws');
  if (o.protocol === 'nchan' && o.events.length > 1) throw new Error('the nchan protocol follows one event per viewer');
  for (const kind of o.kinds ?? []) {
    if (!(DELTA_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown kind ${kind}`);
  }
}
