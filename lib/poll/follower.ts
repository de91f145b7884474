import type { Principal } from '../model/access.js';
import type { AddressCap } from './address-cap.js';
import type { SharedAnswer } from './answer.js';
import type { Clock } from '../util/clock.js';
import { HubError } from '../model/errors.js';
import type { DeltaFilter } from './filter.js';
import type { PollHandle, PollSink, PollSub } from './reader.js';
import type { Advice } from '../protocol.js';

/**
 * A stream on the poll core: a follower re-arms a hold at the cursor each answer carries and
 * hands every answer, the very bytes the poll path serialised once for its group, to a
 * transport's sink (SSE, WebSocket). Join snapshots, batching, resets and `missed`, filters,
 * access rules and presence are the poller's, unchanged: a stream is a poll that never has to
 * come back. Nothing here knows HTTP.
 */

/** The streaming transports (long polling is the poll routes themselves). */
export type Transport = 'sse' | 'ws';
export const TRANSPORTS: readonly Transport[] = ['sse', 'ws'];

/**
 * Why a stream ended. `drain`: the server is going away (advice says when to come back);
 * `expired`: the token stopped being accepted (reconnect with a fresh one); `slow`: the client
 * did not keep up (its send buffer passed STREAM_BUFFER_BYTES); `ended`: every followed event
 * has ended and been delivered; `error`: a refusal (unknown event, private, bad cursor, store
 * away); `closed`: the client went away or the transport closed it.
 */
export const END_REASONS = ['drain', 'expired', 'slow', 'ended', 'error', 'closed'] as const;
export type EndReason = (typeof END_REASONS)[number];

/** How a stream ended, with where to resume. */
export interface FollowEnd {
  reason: EndReason;
  /** The stream's position: a cursor (one event), `m1@c1,m2@c2` (several), or null before any. */
  resume: string | null;
  advice?: Advice;
  error?: HubError;
}

/** Where a follower's answers go: a transport's writer. */
export interface FollowSink {
  /**
   * One answer, as the poll path made it, and the position after it (`resume`, the SSE `id:`).
   * `first`: the stream's first answer (the transport opens with it).
   */
  answer(body: SharedAnswer, resume: string, first: boolean): void;
  /** Bytes the transport has queued for the client and not yet written to the socket. */
  buffered(): number;
  /** The stream is over (called once); `first`: nothing was answered before it (a refusal at open). */
  end(end: FollowEnd, first: boolean): void;
}

/** What a follower follows and as whom. */
export interface FollowTarget {
  /** One event (answers are single poll answers) or several (`{results: [...]}`). */
  subs: PollSub[];
  multi: boolean;
  viewer: string | null;
  filter: DeltaFilter;
  principal: Principal | null;
  /** The client's address: the stream takes one slot of MAX_HELD_PER_ADDRESS for its life. */
  address: string | null;
}

/** The hold machinery a follower re-arms: the Hub's. */
export interface HoldSource {
  hold(eventId: string, cursor: string | null, options: StreamHoldOptions, sink: PollSink): PollHandle;
  holdMany(subs: PollSub[], options: StreamHoldOptions, sink: PollSink): PollHandle;
  readonly draining: boolean;
  drainAdvice(): Advice;
}

/** The poll options of a follower's holds. */
export interface StreamHoldOptions {
  viewer: string | null;
  holdMs: number;
  filter: DeltaFilter;
  principal: Principal | null;
  stream: true;
}

export interface FollowersOptions {
  /** How long each hold of a stream waits before a quiet answer (it refreshes presence). */
  holdMs: number;
  /** A stream whose transport has more than this queued is cut (STREAM_BUFFER_BYTES). */
  maxBufferedBytes: number;
}

/** What one answer says about each event it covers, read once per shared answer. */
interface EventPoint {
  event: string;
  cursor: string | null;
  more: boolean;
  ended: boolean;
  /** No deltas, no snapshot, no reset: nothing but the cursor and the viewer count. */
  quiet: boolean;
  /** A per-event refusal in a multi-event answer. */
  error: HubError | null;
}

interface AnswerPoint {
  events: EventPoint[];
  advice: Advice | null;
}

/**
 * Answers are shared by every hold of a group, so what they say is parsed once per answer, not
 * once per follower: a wake of ten thousand streams costs one parse.
 */
const points = new WeakMap<SharedAnswer, AnswerPoint>();

function pointOf(answer: SharedAnswer): AnswerPoint {
  let point = points.get(answer);
  if (point) return point;
  const value = JSON.parse(answer.text) as Record<string, unknown>;
  const one = (v: Record<string, unknown>): EventPoint => {
    const error = v['error'] as { code: string; message: string; field?: string } | undefined;
    const deltas = v['deltas'] as unknown[] | undefined;
    return {
      event: String(v['event']),
      cursor: typeof v['cursor'] === 'string' ? v['cursor'] : null,
      more: v['more'] === true,
      ended: v['ended'] === true,
      quiet: (deltas?.length ?? 0) === 0 && v['snapshot'] === undefined && v['reset'] !== true,
      error: error ? new HubError(error.code as HubError['code'], error.message, error.field === undefined ? {} : { field: error.field }) : null,
    };
  };
  const results = value['results'];
  point = {
    events: Array.isArray(results) ? results.map((r) => one(r as Record<string, unknown>)) : [one(value)],
    advice: (value['advice'] as Advice | undefined) ?? null,
  };
  points.set(answer, point);
  return point;
}

/** The stream position of a set of subs: one cursor, or `m1@c1,m2` for several. */
export function resumePoint(subs: readonly PollSub[], multi: boolean): string | null {
  if (!multi) return subs[0]?.cursor ?? null;
  return subs.map((s) => (s.cursor === null ? s.eventId : `${s.eventId}@${s.cursor}`)).join(',');
}

/**
 * One stream: holds re-armed answer after answer until the client goes, the token expires, the
 * server drains, the client falls behind, or every event has ended. It is the PollSink of each
 * of its holds.
 */
export class Follower implements PollSink {
  private handle: PollHandle | null = null;
  private retry: NodeJS.Timeout | null = null;
  private answered = false;
  private over = false;
  private readonly subs: PollSub[];

  constructor(
    private readonly owner: Followers,
    readonly transport: Transport,
    /** What it follows (its principal changes when a token is refreshed). */
    readonly target: FollowTarget,
    private readonly sink: FollowSink,
  ) {
    this.subs = target.subs.map((s) => ({ ...s }));
  }

  /** The position to resume from now. */
  get resume(): string | null {
    return resumePoint(this.subs, this.target.multi);
  }

  /** The principal the next holds run as. */
  get principal(): Principal | null {
    return this.target.principal;
  }

  /** True once the stream has ended. */
  get ended(): boolean {
    return this.over;
  }

  /** True while a hold of this stream is waiting in the poller (or reading). */
  get holding(): boolean {
    return this.handle !== null;
  }

  /**
   * A refreshed token (WebSocket `auth`): the next holds run as it, and it must be the same
   * viewer. The hold parked now still ends at the old token's expiry, and is re-armed as the new.
   */
  refresh(principal: Principal): void {
    if ((principal.sub ?? null) !== (this.target.principal?.sub ?? null)) {
      throw new HubError('forbidden', 'a refreshed token must be for the same sub as the stream’s');
    }
    this.target.principal = principal;
  }

  /** Arms the next hold, or ends the stream when it may not go on. */
  arm(): void {
    if (this.over) return;
    this.retry = null;
    const source = this.owner.source;
    if (source.draining) return this.finish({ reason: 'drain', resume: this.resume, advice: source.drainAdvice() });
    const expiresAt = this.target.principal?.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= this.owner.clock.now()) return this.finish({ reason: 'expired', resume: this.resume });
    if (this.sink.buffered() > this.owner.options.maxBufferedBytes) return this.finish({ reason: 'slow', resume: this.resume });
    // The first hold answers at once (news, a join snapshot, or the cursor as it stands), so a
    // transport opens at once with a status, and a proxy that buffers shows itself.
    const options: StreamHoldOptions = {
      viewer: this.target.viewer,
      holdMs: this.answered ? this.owner.options.holdMs : 0,
      filter: this.target.filter,
      principal: this.target.principal,
      stream: true,
    };
    const sub = this.subs[0]!;
    this.handle = this.target.multi ? source.holdMany(this.subs.map((s) => ({ ...s })), options, this) : source.hold(sub.eventId, sub.cursor, options, this);
  }

  /** PollSink: one answer of the current hold. */
  answer(body: SharedAnswer): void {
    this.handle = null;
    if (this.over) return;
    const point = pointOf(body);
    const source = this.owner.source;
    const draining = source.draining;
    if (point.advice !== null && !draining && this.answered) {
      // Superseded: another stream or poll of the same viewer on the same event took over the
      // hold. It carries no news; come back when the advice says, as a polling client would.
      this.retry = setTimeout(() => this.arm(), point.advice.retryMs);
      return;
    }
    const errors: HubError[] = [];
    for (const p of point.events) {
      const i = this.subs.findIndex((s) => s.eventId === p.event);
      if (i < 0) continue;
      if (p.error !== null) {
        errors.push(p.error);
        continue;
      }
      if (p.cursor !== null) this.subs[i]!.cursor = p.cursor;
    }
    const first = !this.answered;
    // Opening at the head of an ended event (a reconnect after the end): nothing to say but that.
    if (first && point.events.every((p) => p.error === null && p.ended && p.quiet && !p.more)) {
      return this.finish({ reason: 'ended', resume: this.resume });
    }
    this.answered = true;
    this.sink.answer(body, this.resume ?? '', first);
    if (this.over) return;
    // Events refused mid-stream (deleted, turned private) are no longer followed.
    if (errors.length > 0) {
      const refused = new Set(point.events.filter((p) => p.error !== null).map((p) => p.event));
      for (let i = this.subs.length - 1; i >= 0; i--) if (refused.has(this.subs[i]!.eventId)) this.subs.splice(i, 1);
    }
    // An ended event delivered to its head would answer at once, every time: it is let go.
    const done = point.events.filter((p) => p.error === null && p.ended && !p.more).map((p) => p.event);
    if (done.length > 0) {
      for (let i = this.subs.length - 1; i >= 0; i--) if (done.includes(this.subs[i]!.eventId)) this.subs.splice(i, 1);
    }
    if (draining) return this.finish({ reason: 'drain', resume: this.resume, advice: point.advice ?? source.drainAdvice() });
    if (this.subs.length === 0) {
      return this.finish(errors.length > 0 && done.length === 0 ? { reason: 'error', resume: null, error: errors[0]! } : { reason: 'ended', resume: null });
    }
    this.arm();
  }

  /** PollSink: the hold was refused. */
  fail(error: HubError): void {
    this.handle = null;
    if (this.over) return;
    if (error.code === 'draining') return this.finish({ reason: 'drain', resume: this.resume, advice: this.owner.source.drainAdvice() });
    this.finish({ reason: 'error', resume: this.resume, error });
  }

  /** The client went away: drops the hold, frees the slot; the sink hears nothing more. */
  close(): void {
    if (this.over) return;
    this.over = true;
    this.stopHolding();
    this.owner.release(this, 'closed');
  }

  /** Ends the stream from outside (a transport's own reason: slow, expired, drain). */
  end(reason: EndReason, extra: Partial<FollowEnd> = {}): void {
    this.finish({ reason, resume: this.resume, ...extra });
  }

  private stopHolding(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.handle?.cancel();
    this.handle = null;
  }

  private finish(end: FollowEnd): void {
    if (this.over) return;
    this.over = true;
    this.stopHolding();
    this.owner.release(this, end.reason);
    this.sink.end(end, !this.answered);
  }
}

/** Told of streams opening and ending, for the metrics. */
export interface StreamObserver {
  opened(transport: Transport): void;
  ended(transport: Transport, reason: EndReason): void;
}

/**
 * Every open stream of this server, by transport: their per-address slots, their count, and
 * the drain that ends those not parked in the poller at that moment (the parked ones hear the
 * drain answer itself).
 */
export class Followers {
  private readonly live = new Set<Follower>();
  private readonly counts: Record<Transport, number> = { sse: 0, ws: 0 };

  constructor(
    readonly source: HoldSource,
    readonly clock: Clock,
    private readonly addresses: AddressCap,
    readonly options: FollowersOptions,
    private readonly observer: StreamObserver | null = null,
  ) {}

  /** Open streams of a transport. */
  count(transport: Transport): number {
    return this.counts[transport];
  }

  /**
   * Starts a stream; its first answer (or refusal) reaches the sink at once. Throws 503 while
   * draining and 429 when the client's address has no room for another held request.
   */
  follow(transport: Transport, target: FollowTarget, sink: FollowSink): Follower {
    if (this.source.draining) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    this.addresses.assertRoom(target.address);
    this.addresses.add(target.address);
    const follower = new Follower(this, transport, target, sink);
    this.live.add(follower);
    this.counts[transport] += 1;
    this.observer?.opened(transport);
    follower.arm();
    return follower;
  }

  /** Ends every stream that is not waiting in the poller (those hear the drain answer). */
  drain(): void {
    for (const f of [...this.live]) if (!f.holding) f.arm();
  }

  /** Called once by a follower as it ends. */
  release(follower: Follower, reason: EndReason): void {
    if (!this.live.delete(follower)) return;
    this.counts[follower.transport] -= 1;
    this.addresses.remove(follower.target.address);
    this.observer?.ended(follower.transport, reason);
  }
}
