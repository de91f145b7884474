import { readRefusal, requireRead, type Principal } from './access.js';
import { AddressCap } from './address-cap.js';
import { SharedAnswer, serializeAnswer, type AnswerParts } from './answer.js';
import type { Clock } from './clock.js';
import { parseCursor } from './cursor.js';
import { HubError, isHubError } from './errors.js';
import { wants, type DeltaFilter } from './filter.js';
import { HoldTimers } from './hold-timers.js';
import { NOOP_OBSERVER, POLL_OUTCOMES, type HubObserver, type PollOutcome } from './observer.js';
import type { Advice } from './protocol.js';
import type { LogEntry, ReadResult, Store } from './store/types.js';

/** One event a poll follows. */
export interface PollSub {
  eventId: string;
  /** The raw cursor, or null for a join (answer with the snapshot). */
  cursor: string | null;
}

/** One poll: one event (GET /events/:id/poll) or several (GET /poll). */
export interface PollRequest {
  subs: PollSub[];
  /** Presence identity; null polls work but are not counted. */
  viewer: string | null;
  holdMs: number;
  filter: DeltaFilter;
  principal: Principal | null;
  /** Several events answer `{results: [...]}` even when there is one. */
  multi: boolean;
  /** The client's address, for the cap on held polls per address; absent = not counted. */
  address?: string | null;
  /** Extra fields of a join answer. */
  join?: { viewerId: string; advice: Advice };
}

/** Where a poll's outcome goes: exactly one of these is called, at most once. */
export interface PollSink {
  /** The 200 answer; the same SharedAnswer may go to thousands of sinks. */
  answer(body: SharedAnswer): void;
  /** A refusal (bad cursor, unknown or deleted event, private event, draining). */
  fail(error: HubError): void;
}

/** Lets the caller drop a poll whose client went away. */
export interface PollHandle {
  cancel(): void;
}

export interface PollerOptions {
  holdTimeoutMs: number;
  /** min(MAX_BATCH, RING_SIZE). */
  maxBatch: number;
  presenceTtlMs: number;
  /** Granularity of hold timeouts. @default 100 */
  tickMs?: number;
  /** Told how polls are answered; must be cheap. @default NOOP_OBSERVER */
  observer?: HubObserver;
  /** Held polls per client address; 0 = no cap. @default 20_000 */
  maxHeldPerAddress?: number;
}

/**
 * How long a poll answered because the same viewer polled the same event again should wait: two
 * tabs of one viewer would otherwise take turns answering each other's polls as fast as they can.
 */
const SUPERSEDED_RETRY_MS = 1000;

/** Why an answer with a body is news. */
type AnswerKind = Extract<PollOutcome, 'delta' | 'reset' | 'ended' | 'snapshot'>;
const NO_ENTRIES: readonly LogEntry[] = Object.freeze([]);

/** What inspecting one sub found: an answer now, or where to wait. */
type Outcome =
  | { kind: 'answer'; body: string; why: AnswerKind; entries: readonly LogEntry[] }
  | { kind: 'error'; error: HubError }
  | { kind: 'wait'; epoch: string; seq: number };
type Wait = Extract<Outcome, { kind: 'wait' }>;

/** A parked sub: one event of one held poll. */
interface Sub {
  hold: Hold;
  eventId: string;
  epoch: string;
  seq: number;
}

/**
 * A poll from start to answer. It keeps only what the answer needs (request, sink, parked
 * subs), never the HTTP context; every exit (answer, fail, drop) marks it done exactly once.
 */
class Hold implements PollHandle {
  /** True once the sink was called or the client left: nothing may settle it again. */
  done = false;
  /** Events the viewer left while this hold was parked: its end must not bring them back. */
  left: Set<string> | null = null;
  subs: Sub[] = [];
  constructor(
    readonly poller: Poller,
    readonly req: PollRequest,
    readonly sink: PollSink,
    /** Arrival order: of two polls of one viewer on one event, the later one is the one held. */
    readonly order: number,
  ) {}

  cancel(): void {
    this.poller.drop(this);
  }
}

/**
 * Holds polls until their event's cursor advances. Reads once per wake per event, serialises
 * each distinct (cursor, filter) answer once, and hands the same bytes to every hold it fits.
 */
export class Poller {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly options: PollerOptions;
  private readonly observer: HubObserver;
  private readonly byEvent = new Map<string, Set<Sub>>();
  private readonly timers: HoldTimers<Hold>;
  private readonly holds = new Set<Hold>();
  /**
   * Parked holds by (event, viewer): a leave finds the viewer's holds without a scan, and a new
   * poll answers the viewer's older one there (at most one stays parked per key).
   */
  private readonly byViewer = new Map<string, Set<Hold>>();
  private readonly addresses: AddressCap;
  private arrivals = 0;
  /** Per event, a counter bumped on every change: closes the gap between a read and parking. */
  private readonly changes = new Map<string, number>();
  /** Events whose wake is running; true when another change came in meanwhile. */
  private readonly waking = new Map<string, boolean>();
  private draining = false;

  constructor(store: Store, clock: Clock, options: PollerOptions) {
    this.store = store;
    this.clock = clock;
    this.options = options;
    this.observer = options.observer ?? NOOP_OBSERVER;
    this.timers = new HoldTimers<Hold>(clock, options.tickMs ?? 100, (holds) => void this.settleQuiet(holds, 'timeout'));
    this.addresses = new AddressCap(options.maxHeldPerAddress ?? 20_000);
  }

  /** How many requests are held now. */
  get held(): number {
    return this.holds.size;
  }

  /** The events some held request waits on. */
  heldEvents(): IterableIterator<string> {
    return this.byEvent.keys();
  }

  /** Starts a poll: the sink hears the answer now, or when news, timeout, token expiry or drain comes. */
  poll(req: PollRequest, sink: PollSink): PollHandle {
    const hold = new Hold(this, req, sink, ++this.arrivals);
    if (this.draining) this.fail(hold, new HubError('draining', 'the server is draining', { retryAfterS: 1 }));
    else {
      // The older poll's client has most likely gone (a reconnect): free it now, not at its timeout.
      this.supersede(hold);
      this.start(hold).catch((err: unknown) => this.fail(hold, err));
    }
    return hold;
  }

  /** Store listener: an event changed, so wake whoever waits on it (coalesced per event). */
  notify(eventId: string): void {
    this.changes.set(eventId, (this.changes.get(eventId) ?? 0) + 1);
    if (!this.byEvent.has(eventId)) return;
    if (this.waking.has(eventId)) {
      this.waking.set(eventId, true);
      return;
    }
    this.waking.set(eventId, false);
    void this.wake(eventId);
  }

  /** Answers every held poll at once with its cursor and a jittered retry; refuses new ones. Resolves with how many. */
  async drain(): Promise<number> {
    this.draining = true;
    return this.settleQuiet([...this.holds], 'drain');
  }

  /** A viewer left an event: its parked holds there will not re-mark it present when they end. */
  forget(eventId: string, viewer: string): void {
    for (const hold of this.byViewer.get(viewerKey(eventId, viewer)) ?? []) (hold.left ??= new Set()).add(eventId);
  }

  /** Drops a hold without answering (its client went away); a no-op once done. */
  drop(hold: Hold): void {
    if (hold.done) return;
    this.observer.answered('aborted', 1);
    hold.done = true;
    this.unpark(hold);
    this.touchAfter(hold);
  }

  /** Drops every hold without answering and stops the timer wheel. */
  close(): void {
    this.draining = true;
    for (const hold of [...this.holds]) {
      hold.done = true;
      this.unpark(hold);
    }
    this.timers.stop();
  }

  private async start(hold: Hold): Promise<void> {
    const { req } = hold;
    const marks = req.subs.map((s) => this.changes.get(s.eventId) ?? 0);
    const outcomes = await Promise.all(req.subs.map((s) => this.inspect(s, req)));
    if (hold.done) return;
    if (!req.multi) {
      const only = outcomes[0]!;
      if (only.kind === 'error') return this.fail(hold, only.error);
      if (only.kind === 'answer') {
        this.countImmediate(only.why, outcomes);
        return this.answer(hold, only.body);
      }
    } else if (outcomes.some((o) => o.kind !== 'wait')) {
      const body = await this.results(req, outcomes);
      if (hold.done) return;
      this.countImmediate(requestOutcome(outcomes), outcomes);
      return this.answer(hold, body);
    }
    const now = this.clock.now();
    const deadline = Math.min(now + req.holdMs, req.principal?.expiresAt ?? Infinity);
    if (req.holdMs === 0 || deadline <= now || this.draining) {
      const body = await this.results(req, outcomes, this.draining ? this.drainAdvice() : undefined);
      if (!hold.done) this.observer.answered(this.draining ? 'drain' : 'timeout', 1);
      return this.answer(hold, body);
    }
    // A later poll of the same viewer parked while this one was reading: this one is the stale one.
    if (this.newerHolder(hold)) {
      const body = await this.results(req, outcomes, this.supersededAdvice());
      if (!hold.done) this.observer.answered('superseded', 1);
      return this.answer(hold, body);
    }
    this.addresses.assertRoom(req.address ?? null);
    this.supersede(hold);
    this.park(hold, outcomes as Wait[], deadline, marks);
  }

  /** Answers, with their cursors, the parked polls of this viewer on these events that came earlier. */
  private supersede(hold: Hold): void {
    const { viewer } = hold.req;
    if (viewer === null) return;
    const older = hold.req.subs
      .flatMap((s) => [...(this.byViewer.get(viewerKey(s.eventId, viewer)) ?? [])])
      .filter((h) => h.order < hold.order && sameViewer(h, hold));
    if (older.length === 0) return;
    // Out of every index now (their slots are free for this poll); their answers follow.
    for (const h of older) this.unpark(h);
    void this.settleQuiet([...new Set(older)], 'superseded');
  }

  private newerHolder(hold: Hold): boolean {
    const { viewer } = hold.req;
    if (viewer === null) return false;
    return hold.req.subs.some((s) => [...(this.byViewer.get(viewerKey(s.eventId, viewer)) ?? [])].some((h) => h.order > hold.order && sameViewer(h, hold)));
  }

  private supersededAdvice(): Advice {
    return { timeoutMs: this.options.holdTimeoutMs, retryMs: SUPERSEDED_RETRY_MS };
  }

  private drainAdvice(): Advice {
    // Spread the reconnects over a second so a drained server's viewers do not arrive as one spike.
    return { timeoutMs: this.options.holdTimeoutMs, retryMs: Math.floor(Math.random() * 1000) };
  }

  /** Decides what one sub gets now: news, an error, or where to wait. */
  private async inspect(sub: PollSub, req: PollRequest): Promise<Outcome> {
    try {
      if (sub.cursor === null) return { kind: 'answer', body: await this.joinBody(sub.eventId, req), why: 'snapshot', entries: NO_ENTRIES };
      const field = req.multi ? `subs.${sub.eventId}` : 'cursor';
      const cursor = parseCursor(sub.cursor, field);
      let read = await this.store.read(sub.eventId, cursor.seq, this.options.maxBatch);
      if (!read) throw new HubError('not_found', `no event ${sub.eventId}`);
      requireRead(req.principal, read.record);
      if (read.record.epoch === cursor.epoch && cursor.seq > read.record.head) {
        throw new HubError('invalid_cursor', 'the cursor is ahead of the log', { field });
      }
      if (req.viewer !== null) {
        await this.store.touchPresence(sub.eventId, req.viewer, this.clock.now() + req.holdMs + this.options.presenceTtlMs);
      }
      for (;;) {
        const outcome = await this.evaluate(sub.eventId, cursor.epoch, cursor.seq, req.filter, read);
        // Everything in this batch was filtered out but more is logged: keep reading before waiting.
        if (outcome.kind !== 'wait' || outcome.seq >= read.record.head) return outcome;
        cursor.seq = outcome.seq;
        const next = await this.store.read(sub.eventId, cursor.seq, this.options.maxBatch);
        if (!next) throw new HubError('not_found', `no event ${sub.eventId}`);
        read = next;
      }
    } catch (err) {
      if (isHubError(err)) return { kind: 'error', error: err };
      throw err;
    }
  }

  private async joinBody(eventId: string, req: PollRequest): Promise<string> {
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    requireRead(req.principal, snap.record);
    if (req.viewer !== null) await this.store.touchPresence(eventId, req.viewer, this.clock.now() + this.options.presenceTtlMs);
    const parts: AnswerParts = {
      event: eventId, epoch: snap.record.epoch, seq: snap.record.head, entries: [], more: false,
      viewers: await this.countViewers(eventId), reset: false,
      ended: snap.record.state === 'ended', snapshot: snap.snapshot,
    };
    if (req.join) Object.assign(parts, { viewerId: req.join.viewerId, advice: req.join.advice });
    return serializeAnswer(parts);
  }

  /** Given a read after `seq`, the answer for a viewer at (epoch, seq) with this filter, or where it waits. */
  private async evaluate(eventId: string, epoch: string, seq: number, filter: DeltaFilter, read: ReadResult): Promise<Outcome> {
    const { record } = read;
    if (record.epoch !== epoch || seq < read.oldest - 1) {
      const missed = record.epoch !== epoch ? null : record.head - seq;
      return { kind: 'answer', body: await this.resetBody(eventId, missed), why: 'reset', entries: NO_ENTRIES };
    }
    const slice = sliceAfter(read.entries, seq, this.options.maxBatch);
    const matched = slice.filter((e) => wants(filter, e));
    const last = slice.length > 0 ? slice[slice.length - 1]!.seq : seq;
    const ended = record.state === 'ended';
    if (matched.length === 0 && !ended) return { kind: 'wait', epoch, seq: last };
    const viewers = await this.countViewers(eventId);
    return {
      kind: 'answer',
      body: serializeAnswer({ event: eventId, epoch, seq: last, entries: matched, more: last < record.head, viewers, reset: false, ended }),
      why: matched.length > 0 ? 'delta' : 'ended',
      entries: matched,
    };
  }

  private async resetBody(eventId: string, missed: number | null): Promise<string> {
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    const viewers = await this.countViewers(eventId);
    return serializeAnswer({
      event: eventId, epoch: snap.record.epoch, seq: snap.record.head, entries: [], more: false, viewers,
      reset: true, ended: snap.record.state === 'ended', snapshot: snap.snapshot, missed,
    });
  }

  /** Parks a hold on each of its events, armed to time out at `deadline`. */
  private park(hold: Hold, waits: Wait[], deadline: number, marks: number[]): void {
    hold.subs = waits.map((w, i) => ({ hold, eventId: hold.req.subs[i]!.eventId, epoch: w.epoch, seq: w.seq }));
    this.holds.add(hold);
    this.addresses.add(hold.req.address ?? null);
    for (const sub of hold.subs) {
      let set = this.byEvent.get(sub.eventId);
      if (!set) this.byEvent.set(sub.eventId, (set = new Set()));
      set.add(sub);
      if (hold.req.viewer === null) continue;
      const key = viewerKey(sub.eventId, hold.req.viewer);
      let mine = this.byViewer.get(key);
      if (!mine) this.byViewer.set(key, (mine = new Set()));
      mine.add(hold);
    }
    this.timers.add(hold, deadline);
    // A change that landed between our read and now would otherwise wait for the next one.
    hold.subs.forEach((sub, i) => {
      if ((this.changes.get(sub.eventId) ?? 0) !== marks[i]) this.notify(sub.eventId);
    });
  }

  /** Reads new entries once for every hold on the event and answers those that have news. */
  private async wake(eventId: string): Promise<void> {
    try {
      do {
        this.waking.set(eventId, false);
        await this.wakeOnce(eventId);
      } while (this.waking.get(eventId) === true && this.byEvent.has(eventId));
    } catch (err) {
      // Not a HubError: a bug. Answer the holds rather than leave them hanging until timeout.
      for (const s of [...(this.byEvent.get(eventId) ?? [])]) this.fail(s.hold, err);
    } finally {
      this.waking.delete(eventId);
    }
  }

  private async wakeOnce(eventId: string): Promise<void> {
    const subs = this.byEvent.get(eventId);
    if (!subs || subs.size === 0) return;
    let low = Infinity;
    let high = -Infinity;
    for (const s of subs) {
      if (s.seq < low) low = s.seq;
      if (s.seq > high) high = s.seq;
    }
    let read: ReadResult | null;
    try {
      read = await this.store.read(eventId, low, this.options.maxBatch + (high - low));
    } catch (err) {
      // The store is down: answer the holds with their cursors so clients retry elsewhere or later.
      if (!isHubError(err)) throw err;
      await this.settleQuiet([...subs].map((s) => s.hold), 'error');
      return;
    }
    // The event may have turned private since these polls parked: nothing more for those who may not read it.
    if (read) {
      for (const s of [...subs]) {
        const refusal = readRefusal(s.hold.req.principal, read.record);
        if (refusal) this.settleGroup(eventId, [s], { kind: 'error', error: refusal });
      }
    }
    // Group by (epoch, seq, filter): each group's answer is computed and serialised once.
    const groups = new Map<string, Sub[]>();
    for (const s of subs) {
      const key = `${s.epoch}|${s.seq}|${s.hold.req.filter.key}`;
      const group = groups.get(key);
      if (group) group.push(s);
      else groups.set(key, [s]);
    }
    for (const group of groups.values()) {
      const first = group[0]!;
      let outcome: Outcome;
      if (!read) outcome = { kind: 'error', error: new HubError('not_found', `event ${eventId} was deleted`) };
      else {
        try {
          outcome = await this.evaluate(eventId, first.epoch, first.seq, first.hold.req.filter, read);
        } catch (err) {
          if (!isHubError(err)) throw err;
          outcome = { kind: 'error', error: err };
        }
      }
      if (outcome.kind === 'wait') {
        // Filtered-out deltas still move the cursor; if more remain beyond this read, look again.
        for (const s of group) s.seq = outcome.seq;
        if (read && outcome.seq < read.record.head) this.waking.set(eventId, true);
        continue;
      }
      this.settleGroup(eventId, group, outcome);
    }
  }

  /** Answers every hold of a group with the group's one outcome; presence is refreshed in one call. */
  private settleGroup(eventId: string, group: Sub[], outcome: Exclude<Outcome, { kind: 'wait' }>): void {
    const shared = outcome.kind === 'answer' ? new SharedAnswer(outcome.body) : null;
    const viewers: string[] = [];
    let answered = 0;
    for (const sub of group) {
      const { hold } = sub;
      if (hold.done) continue;
      answered++;
      if (hold.req.multi) {
        void this.settleMulti(sub, outcome);
        continue;
      }
      hold.done = true;
      this.unpark(hold);
      if (hold.req.viewer !== null && !hold.left?.has(eventId)) viewers.push(hold.req.viewer);
      if (shared) hold.sink.answer(shared);
      else hold.sink.fail((outcome as { error: HubError }).error);
    }
    if (viewers.length > 0) {
      this.store.touchPresenceMany(eventId, viewers, this.clock.now() + this.options.presenceTtlMs).catch(() => undefined);
    }
    // Counted once per group: the same bytes went to `answered` requests.
    this.observer.answered(outcome.kind === 'answer' ? outcome.why : 'error', answered);
    if (outcome.kind === 'answer' && outcome.entries.length > 0) this.observer.delivered(outcome.entries, answered, 'wake', this.clock.now());
  }

  /** Settles a multi-event hold because one of its events has news: the others answer as they stand. */
  private async settleMulti(sub: Sub, outcome: Exclude<Outcome, { kind: 'wait' }>): Promise<void> {
    const { hold } = sub;
    const outcomes: Outcome[] = hold.subs.map((s) => (s === sub ? outcome : { kind: 'wait', epoch: s.epoch, seq: s.seq }));
    this.answer(hold, await this.results(hold.req, outcomes));
  }

  /**
   * Answers holds with no news (timeout, token expiry, drain, store down): one count and one
   * body per event and cursor. Resolves with how many it answered.
   */
  private async settleQuiet(holds: Hold[], why: 'timeout' | 'drain' | 'superseded' | 'error'): Promise<number> {
    const advice = why === 'drain' ? () => this.drainAdvice() : why === 'superseded' ? () => this.supersededAdvice() : null;
    const live = holds.filter((h) => !h.done);
    this.observer.answered(why, live.length);
    const single = live.filter((h) => !h.req.multi);
    const events = [...new Set(single.map((h) => h.subs[0]!.eventId))];
    const counts = new Map(await Promise.all(events.map(async (e) => [e, await this.countOrZero(e)] as const)));
    const bodies = new Map<string, SharedAnswer>();
    for (const hold of single) {
      const { eventId, epoch, seq } = hold.subs[0]!;
      const parts: AnswerParts = { event: eventId, epoch, seq, entries: [], more: false, viewers: counts.get(eventId) ?? 0, reset: false, ended: false };
      if (advice) {
        parts.advice = advice();
        this.answer(hold, serializeAnswer(parts));
        continue;
      }
      const key = `${eventId}|${epoch}|${seq}`;
      let shared = bodies.get(key);
      if (!shared) bodies.set(key, (shared = new SharedAnswer(serializeAnswer(parts))));
      this.answer(hold, shared);
    }
    await Promise.all(
      live
        .filter((h) => h.req.multi)
        .map(async (h) => {
          const waits: Outcome[] = h.subs.map((s) => ({ kind: 'wait', epoch: s.epoch, seq: s.seq }));
          this.answer(h, await this.results(h.req, waits, advice ? advice() : undefined));
        }),
    );
    return live.length;
  }

  private countOrZero(eventId: string): Promise<number> {
    // A quiet answer is still worth sending when the store cannot count: the cursor is what matters.
    return this.countViewers(eventId).catch(() => 0);
  }

  /** The event's presence count, as every answer carries it; also a sample for the observer. */
  private async countViewers(eventId: string): Promise<number> {
    const count = await this.store.countPresence(eventId, this.clock.now());
    this.observer.viewers(eventId, count);
    return count;
  }

  /** Counts a request answered at once, and the deltas each of its results carried. */
  private countImmediate(outcome: PollOutcome, outcomes: readonly Outcome[]): void {
    this.observer.answered(outcome, 1);
    const now = this.clock.now();
    for (const o of outcomes) if (o.kind === 'answer' && o.entries.length > 0) this.observer.delivered(o.entries, 1, 'immediate', now);
  }

  /** The body for a set of outcomes: the single answer, or `{results: [...]}`. */
  private async results(req: PollRequest, outcomes: Outcome[], advice?: Advice): Promise<string> {
    const bodies = await Promise.all(
      outcomes.map(async (o, i) => {
        const eventId = req.subs[i]!.eventId;
        if (o.kind === 'answer') return o.body;
        if (o.kind === 'error') return JSON.stringify({ event: eventId, status: o.error.status, ...o.error.toBody() });
        const viewers = await this.countOrZero(eventId);
        const parts: AnswerParts = { event: eventId, epoch: o.epoch, seq: o.seq, entries: [], more: false, viewers, reset: false, ended: false };
        if (advice) parts.advice = advice;
        return serializeAnswer(parts);
      }),
    );
    return req.multi ? `{"results":[${bodies.join(',')}]}` : bodies[0]!;
  }

  /** Takes a hold out of every index (idempotent); whoever calls it decides the answer. */
  private unpark(hold: Hold): void {
    if (!this.holds.delete(hold)) return;
    this.addresses.remove(hold.req.address ?? null);
    this.timers.delete(hold);
    for (const sub of hold.subs) {
      const set = this.byEvent.get(sub.eventId);
      if (set) {
        set.delete(sub);
        if (set.size === 0) this.byEvent.delete(sub.eventId);
      }
      if (hold.req.viewer === null) continue;
      const key = viewerKey(sub.eventId, hold.req.viewer);
      const mine = this.byViewer.get(key);
      mine?.delete(hold);
      if (mine && mine.size === 0) this.byViewer.delete(key);
    }
  }

  /** Delivers an answer unless the hold is already done, and refreshes the viewer's presence. */
  private answer(hold: Hold, body: string | SharedAnswer): void {
    if (hold.done) return;
    hold.done = true;
    this.unpark(hold);
    hold.sink.answer(typeof body === 'string' ? new SharedAnswer(body) : body);
    this.touchAfter(hold);
  }

  /** Delivers a refusal unless the hold is already done. */
  private fail(hold: Hold, err: unknown): void {
    if (hold.done) return;
    this.observer.answered('error', 1);
    hold.done = true;
    this.unpark(hold);
    hold.sink.fail(isHubError(err) ? err : new HubError('internal', 'internal error', { cause: err }));
  }

  /** After an answer or a departure, the viewer counts for PRESENCE_TTL_MS more. */
  private touchAfter(hold: Hold): void {
    const { viewer } = hold.req;
    if (viewer === null) return;
    const until = this.clock.now() + this.options.presenceTtlMs;
    for (const s of hold.req.subs) {
      if (hold.left?.has(s.eventId)) continue;
      this.store.touchPresence(s.eventId, viewer, until).catch(() => undefined);
    }
  }
}

/**
 * Whether two polls are the same viewer for the one-poll rule. A token's sub is proven; a
 * `viewer` parameter is only claimed, and anyone can claim anyone's: so a claimed id counts as
 * the same viewer only from the same client address, and never as a token's sub.
 */
function sameViewer(a: Hold, b: Hold): boolean {
  const subA = a.req.principal?.sub ?? null;
  const subB = b.req.principal?.sub ?? null;
  if (subA !== null || subB !== null) return subA === subB;
  return (a.req.address ?? null) === (b.req.address ?? null);
}

function viewerKey(eventId: string, viewer: string): string {
  return `${eventId}\n${viewer}`;
}

/** What a multi-event request that answers at once counts as: its most telling result (POLL_OUTCOMES order). */
function requestOutcome(outcomes: readonly Outcome[]): PollOutcome {
  let best = POLL_OUTCOMES.indexOf('timeout');
  for (const o of outcomes) {
    const rank = POLL_OUTCOMES.indexOf(o.kind === 'answer' ? o.why : o.kind === 'error' ? 'error' : 'timeout');
    if (rank < best) best = rank;
  }
  return POLL_OUTCOMES[best]!;
}

/** Entries after `seq`, at most `limit` (the read may have started lower for another group). */
function sliceAfter(entries: readonly LogEntry[], seq: number, limit: number): LogEntry[] {
  let i = 0;
  while (i < entries.length && entries[i]!.seq <= seq) i++;
  return entries.slice(i, i + limit);
}
