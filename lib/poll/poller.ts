import { readRefusal } from '../model/access.js';
import { SharedAnswer, serializeAnswer } from './answer.js';
import type { Clock } from '../util/clock.js';
import { HubError, isHubError } from '../model/errors.js';
import { AddressCap } from './address-cap.js';
import { HeadCache } from './head-cache.js';
import { HeldPolls, Hold, type Sub } from './held-polls.js';
import { NOOP_OBSERVER, POLL_OUTCOMES, type HubObserver, type PollOutcome } from '../observer.js';
import { PollReader, type Outcome, type PollHandle, type PollRequest, type PollSink, type Settled, type Wait } from './reader.js';
import type { Advice } from '../protocol.js';
import type { EventLog, PresenceStore, ReadResult } from '../store/types.js';

export type { PollHandle, PollRequest, PollSink, PollSub } from './reader.js';

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

/** One wake's presence counts, by event. */
type PresenceCounts = (eventId: string) => Promise<number>;

/** Memory for answers kept for polls behind the head, across all events (text and bytes). */
const KEPT_ANSWER_BYTES = 16 * 1024 * 1024;

/** How long a kept answer serves, however quiet its event: its `viewers` is at most this old. */
const KEPT_ANSWER_TTL_MS = 1000;

/**
 * Holds polls until their event's cursor advances. Reads once per wake per event, serialises
 * each distinct (cursor, filter) answer once, and hands the same bytes to every hold it fits.
 */
export class Poller {
  private readonly store: EventLog & PresenceStore;
  private readonly clock: Clock;
  private readonly options: PollerOptions;
  private readonly observer: HubObserver;
  private readonly reader: PollReader;
  private readonly parked: HeldPolls;
  /** Held polls and open streams per client address (MAX_HELD_PER_ADDRESS). */
  readonly addresses: AddressCap;
  private arrivals = 0;
  /** Events whose wake is running; true when another change came in meanwhile. */
  private readonly waking = new Map<string, boolean>();
  /** Change marks, known records, kept answers and per-change reads and counts (lib/poll/head-cache.ts). */
  private readonly heads: HeadCache;
  private draining = false;

  constructor(store: EventLog & PresenceStore, clock: Clock, options: PollerOptions) {
    this.store = store;
    this.clock = clock;
    this.options = options;
    this.observer = options.observer ?? NOOP_OBSERVER;
    this.heads = new HeadCache(clock, { keptBytes: KEPT_ANSWER_BYTES, keptTtlMs: KEPT_ANSWER_TTL_MS }, (id) => this.parked.hasEvent(id) || this.waking.has(id));
    this.reader = new PollReader(store, clock, this.observer, options);
    this.addresses = new AddressCap(options.maxHeldPerAddress ?? 20_000);
    this.parked = new HeldPolls(clock, options.tickMs ?? 100, this.addresses, (holds) => void this.settleQuiet(holds, 'timeout'));
  }

  /** Change marks kept (bounded: those of events nobody waits on are dropped). */
  get trackedChanges(): number {
    return this.heads.tracked;
  }

  /** How many poll requests are held now (the holds of streams not counted). */
  get held(): number {
    return this.parked.size - this.parked.streams;
  }

  /** True once drain() has begun: new polls are refused. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** The events some held request waits on. */
  heldEvents(): IterableIterator<string> {
    return this.parked.events();
  }

  /** Starts a poll: the sink hears the answer now, or when news, timeout, token expiry or drain comes. */
  poll(req: PollRequest, sink: PollSink): PollHandle {
    const hold = new Hold(this, req, sink, ++this.arrivals, this.clock.now());
    if (this.draining) this.fail(hold, new HubError('draining', 'the server is draining', { retryAfterS: 1 }));
    else {
      // The older poll's client has most likely gone (a reconnect): free it now, not at its timeout.
      this.supersede(hold);
      this.start(hold);
    }
    return hold;
  }

  /** Store listener: an event changed, so wake whoever waits on it (coalesced per event). */
  notify(eventId: string): void {
    this.heads.changed(eventId);
    if (!this.parked.hasEvent(eventId)) return;
    if (this.waking.has(eventId)) {
      this.waking.set(eventId, true);
      return;
    }
    this.waking.set(eventId, false);
    // After the job at hand: when the change is this process's own write, its 201 goes out
    // before the thousands of answers, as a publisher expects of an acknowledgement.
    process.nextTick(() => void this.wake(eventId));
  }

  /** Answers every held poll at once with its cursor and a jittered retry; refuses new ones. Resolves with how many. */
  async drain(): Promise<number> {
    this.draining = true;
    return this.settleQuiet(this.parked.all(), 'drain');
  }

  /** A viewer left an event: its parked holds there will not re-mark it present when they end. */
  forget(eventId: string, viewer: string): void {
    for (const hold of this.parked.holdsOf(eventId, viewer)) (hold.left ??= new Set()).add(eventId);
  }

  /** Drops a hold without answering (its client went away); a no-op once done. */
  drop(hold: Hold): void {
    if (hold.done) return;
    this.observer.answered('aborted', 1);
    // Only a held poll tells of the path's limit; one dropped while it was still being read does not.
    if (hold.parked) this.observer.abandoned(this.clock.now() - hold.arrivedAt);
    hold.done = true;
    this.parked.remove(hold);
    this.touchAfter(hold);
  }

  /** Drops every hold without answering and stops the timer wheel. */
  close(): void {
    this.draining = true;
    for (const hold of this.parked.all()) {
      hold.done = true;
      this.parked.remove(hold);
    }
    this.parked.stop();
  }

  /**
   * Looks at each followed event, then answers or parks. A re-poll at the head of events the
   * poller knows unchanged (most polls, after every wake) parks now, with no store call awaited
   * and no promise in between; anything else reads first.
   */
  private start(hold: Hold): void {
    const { req } = hold;
    const marks = req.subs.map((s) => this.heads.mark(s.eventId));
    // Parked at once; if its presence write is then refused (the store is away), it is answered
    // with that refusal, as a poll that read first would have been.
    const waits = this.reader.waitsAtKnownHead(req, this.heads, (err) => this.fail(hold, err));
    if (waits) {
      try {
        this.decide(hold, waits, marks);
      } catch (err) {
        this.fail(hold, err);
      }
      return;
    }
    Promise.all(req.subs.map((s) => this.reader.inspect(s, req, this.heads)))
      .then((outcomes) => {
        if (!hold.done) this.decide(hold, outcomes, marks);
      })
      .catch((err: unknown) => this.fail(hold, err));
  }

  /**
   * Answers a poll from what its events gave (`marks`: their change counts before looking), or
   * parks it. Synchronous but for the answers whose body must still be made (multi-event, quiet).
   */
  private decide(hold: Hold, outcomes: readonly Outcome[], marks: number[]): void {
    const { req } = hold;
    if (!req.multi) {
      const only = outcomes[0]!;
      if (only.kind === 'error') return this.fail(hold, only.error);
      if (only.kind === 'answer') {
        this.countImmediate(only.why, outcomes);
        return this.answer(hold, only.shared ?? only.body);
      }
    } else if (outcomes.some((o) => o.kind !== 'wait')) {
      return this.answerWhenMade(hold, this.reader.results(req, outcomes), () => this.countImmediate(requestOutcome(outcomes), outcomes));
    }
    const now = this.clock.now();
    const deadline = Math.min(now + req.holdMs, req.principal?.expiresAt ?? Infinity);
    if (req.holdMs === 0 || deadline <= now || this.draining) {
      const body = this.reader.results(req, outcomes, this.draining ? this.drainAdvice() : undefined);
      return this.answerWhenMade(hold, body, () => this.observer.answered(this.draining ? 'drain' : 'timeout', 1));
    }
    // A later poll of the same viewer parked while this one was reading: this one is the stale one.
    if (this.parked.hasNewerThan(hold)) {
      return this.answerWhenMade(hold, this.reader.results(req, outcomes, this.supersededAdvice()), () => this.observer.answered('superseded', 1));
    }
    this.parked.assertRoom(hold);
    this.supersede(hold);
    this.park(hold, outcomes as Wait[], deadline, marks);
  }

  /** Answers with a body still being made, counted by `count`, unless the hold ended meanwhile. */
  private answerWhenMade(hold: Hold, body: Promise<string>, count: () => void): void {
    body.then(
      (text) => {
        if (hold.done) return;
        count();
        this.answer(hold, text);
      },
      (err: unknown) => this.fail(hold, err),
    );
  }

  /** Answers, with their cursors, the parked polls of this viewer on these events that came earlier. */
  private supersede(hold: Hold): void {
    const older = this.parked.olderThan(hold);
    if (older.length === 0) return;
    // Out of every index now (their slots are free for this poll); their answers follow.
    for (const h of older) this.parked.remove(h);
    void this.settleQuiet(older, 'superseded');
  }

  private supersededAdvice(): Advice {
    return { timeoutMs: this.options.holdTimeoutMs, retryMs: SUPERSEDED_RETRY_MS };
  }

  /** What a client sent away by a drain is told: come back (elsewhere) after a jittered wait. */
  drainAdvice(): Advice {
    // Spread the reconnects over a second so a drained server's viewers do not arrive as one spike.
    return { timeoutMs: this.options.holdTimeoutMs, retryMs: Math.floor(Math.random() * 1000) };
  }

  /** Parks a hold on each of its events, armed to time out at `deadline`. */
  private park(hold: Hold, waits: Wait[], deadline: number, marks: number[]): void {
    hold.subs = waits.map((w, i) => ({ hold, eventId: hold.req.subs[i]!.eventId, epoch: w.epoch, seq: w.seq, tag: w.tag }));
    this.parked.add(hold, deadline);
    // A change that landed between our read and now would otherwise wait for the next one.
    hold.subs.forEach((sub, i) => {
      if (this.heads.mark(sub.eventId) !== marks[i]) this.notify(sub.eventId);
    });
  }

  /** Reads new entries once for every hold on the event and answers those that have news. */
  private async wake(eventId: string): Promise<void> {
    try {
      do {
        this.waking.set(eventId, false);
        await this.wakeOnce(eventId);
      } while (this.waking.get(eventId) === true && this.parked.hasEvent(eventId));
    } catch (err) {
      // Not a HubError: a bug. Answer the holds rather than leave them hanging until timeout.
      for (const s of [...(this.parked.subsOf(eventId) ?? [])]) this.fail(s.hold, err);
    } finally {
      this.waking.delete(eventId);
    }
  }

  private async wakeOnce(eventId: string): Promise<void> {
    const subs = this.parked.subsOf(eventId);
    if (!subs || subs.size === 0) return;
    let low = Infinity;
    let high = -Infinity;
    for (const s of subs) {
      if (s.seq < low) low = s.seq;
      if (s.seq > high) high = s.seq;
    }
    let read: ReadResult | null;
    const mark = this.heads.mark(eventId);
    try {
      const reading = this.store.read(eventId, low, this.options.maxBatch + (high - low));
      // The polls that come back before the next change read from this one (PollReader.readFresh).
      this.heads.shareRead(eventId, mark, low, reading);
      read = await reading;
      if (read) this.heads.set(eventId, read.record, mark);
      else this.heads.forget(eventId);
    } catch (err) {
      // The store is down: answer the holds with their cursors so clients retry elsewhere or later.
      if (!isHubError(err)) throw err;
      await this.settleQuiet([...subs].map((s) => s.hold), 'error');
      return;
    }
    // The event may have turned private since these polls parked: nothing more for those who may not read it.
    // A multi-event hold settles asynchronously (settleMulti), so it is still parked after its
    // refusal: remember who was refused so the grouping below cannot answer them a second time.
    const refused = new Set<Sub>();
    if (read) {
      for (const s of [...subs]) {
        const refusal = readRefusal(s.hold.req.principal, read.record);
        if (!refusal) continue;
        refused.add(s);
        this.settleGroup(eventId, [s], { kind: 'error', error: refusal });
      }
    }
    // Group by (epoch, seq, filter): each group's answer is computed and serialised once.
    const groups = new Map<string, Sub[]>();
    for (const s of subs) {
      if (refused.has(s)) continue;
      const key = `${s.epoch}|${s.seq}|${s.tag}|${s.hold.req.filter.key}`;
      const group = groups.get(key);
      if (group) group.push(s);
      else groups.set(key, [s]);
    }
    const count = this.presenceCounts();
    for (const group of groups.values()) {
      const first = group[0]!;
      let outcome: Outcome;
      if (!read) outcome = { kind: 'error', error: new HubError('not_found', `event ${eventId} was deleted`) };
      else {
        try {
          outcome = await this.reader.evaluate(eventId, first.epoch, first.seq, first.tag, first.hold.req.filter, read, this.heads);
        } catch (err) {
          if (!isHubError(err)) throw err;
          outcome = { kind: 'error', error: err };
        }
      }
      if (outcome.kind === 'wait') {
        // Filtered-out deltas still move the cursor; if more remain beyond this read, look again.
        for (const s of group) {
          s.seq = outcome.seq;
          s.tag = outcome.tag;
        }
        if (read && outcome.seq < read.record.head) this.waking.set(eventId, true);
        continue;
      }
      this.settleGroup(eventId, group, outcome, count);
    }
  }

  /** Answers every hold of a group with the group's one outcome; presence is refreshed in one call. */
  private settleGroup(eventId: string, group: Sub[], outcome: Settled, count: PresenceCounts = this.presenceCounts()): void {
    const shared = outcome.kind === 'answer' ? new SharedAnswer(outcome.body) : null;
    const viewers: string[] = [];
    let answered = 0;
    const multi: Sub[] = [];
    for (const sub of group) {
      const { hold } = sub;
      if (hold.done) continue;
      answered++;
      if (hold.req.multi) {
        multi.push(sub);
        continue;
      }
      hold.done = true;
      this.parked.remove(hold);
      if (hold.req.viewer !== null && !hold.left?.has(eventId)) viewers.push(hold.req.viewer);
      if (shared) hold.sink.answer(shared);
      else hold.sink.fail((outcome as { error: HubError }).error);
    }
    if (multi.length > 0) this.settleMulti(multi, outcome, count);
    if (viewers.length > 0) {
      this.store.touchPresenceMany(eventId, viewers, this.clock.now() + this.options.presenceTtlMs).catch(() => undefined);
    }
    // Counted once per group: the same bytes went to `answered` requests.
    this.observer.answered(outcome.kind === 'answer' ? outcome.why : 'error', answered);
    if (outcome.kind === 'answer' && outcome.entries.length > 0) this.observer.delivered(outcome.entries, answered, 'wake', this.clock.now());
  }

  /** Presence counts for one wake: each event counted once, however many answers show it. */
  private presenceCounts(): PresenceCounts {
    const counts = new Map<string, Promise<number>>();
    return (eventId) => {
      let n = counts.get(eventId);
      // The count taken since the event's last change, shared with the answers' evaluation.
      if (!n) counts.set(eventId, (n = this.heads.viewers(eventId, () => this.reader.count(eventId)).catch(() => 0)));
      return n;
    };
  }

  /**
   * Settles multi-event holds because one of their events has news: the others answer as they
   * stand. Holds following the same events at the same cursors with the same filter get one
   * body, shared; each other event's presence is counted once per wake (`count`).
   */
  private settleMulti(subs: readonly Sub[], outcome: Settled, count: PresenceCounts): void {
    const bodies = new Map<string, Promise<SharedAnswer>>();
    for (const sub of subs) {
      const { hold } = sub;
      let key = hold.req.filter.key;
      for (const s of hold.subs) key += s === sub ? `|${s.eventId}!` : `|${s.eventId}@${s.epoch}-${s.seq}.${s.tag}`;
      let body = bodies.get(key);
      if (!body) {
        const outcomes: Outcome[] = hold.subs.map((s) => (s === sub ? outcome : { kind: 'wait', epoch: s.epoch, seq: s.seq, tag: s.tag }));
        body = this.reader.results(hold.req, outcomes, undefined, count).then((text) => new SharedAnswer(text));
        bodies.set(key, body);
      }
      body.then(
        (shared) => this.answer(hold, shared),
        (err: unknown) => this.fail(hold, err),
      );
    }
  }

  /**
   * Answers holds with no news (timeout, token expiry, drain, store down): one count and one
   * body per event and cursor. Resolves with how many it answered.
   */
  private async settleQuiet(holds: readonly Hold[], why: 'timeout' | 'drain' | 'superseded' | 'error'): Promise<number> {
    const advice = why === 'drain' ? () => this.drainAdvice() : why === 'superseded' ? () => this.supersededAdvice() : null;
    const live = holds.filter((h) => !h.done);
    this.observer.answered(why, live.length);
    const single = live.filter((h) => !h.req.multi);
    const events = [...new Set(single.map((h) => h.subs[0]!.eventId))];
    const counts = new Map(await Promise.all(events.map(async (e) => [e, await this.reader.countOrZero(e)] as const)));
    const bodies = new Map<string, SharedAnswer>();
    for (const hold of single) {
      const sub = hold.subs[0]!;
      const viewers = counts.get(sub.eventId) ?? 0;
      if (advice) {
        this.answer(hold, serializeAnswer(this.reader.quietParts(sub.eventId, sub, viewers, advice())));
        continue;
      }
      const key = `${sub.eventId}|${sub.epoch}|${sub.seq}|${sub.tag}`;
      let shared = bodies.get(key);
      if (!shared) bodies.set(key, (shared = new SharedAnswer(serializeAnswer(this.reader.quietParts(sub.eventId, sub, viewers)))));
      this.answer(hold, shared);
    }
    await Promise.all(
      live
        .filter((h) => h.req.multi)
        .map(async (h) => {
          const waits: Outcome[] = h.subs.map((s) => ({ kind: 'wait', epoch: s.epoch, seq: s.seq, tag: s.tag }));
          this.answer(h, await this.reader.results(h.req, waits, advice ? advice() : undefined));
        }),
    );
    return live.length;
  }

  /** Counts a request answered at once, and the deltas each of its results carried. */
  private countImmediate(outcome: PollOutcome, outcomes: readonly Outcome[]): void {
    this.observer.answered(outcome, 1);
    const now = this.clock.now();
    for (const o of outcomes) if (o.kind === 'answer' && o.entries.length > 0) this.observer.delivered(o.entries, 1, 'immediate', now);
  }

  /** Delivers an answer unless the hold is already done, and refreshes the viewer's presence. */
  private answer(hold: Hold, body: string | SharedAnswer): void {
    if (hold.done) return;
    hold.done = true;
    this.parked.remove(hold);
    hold.sink.answer(typeof body === 'string' ? new SharedAnswer(body) : body);
    this.touchAfter(hold);
  }

  /** Delivers a refusal unless the hold is already done. */
  private fail(hold: Hold, err: unknown): void {
    if (hold.done) return;
    this.observer.answered('error', 1);
    hold.done = true;
    this.parked.remove(hold);
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

/** What a multi-event request that answers at once counts as: its most telling result (POLL_OUTCOMES order). */
function requestOutcome(outcomes: readonly Outcome[]): PollOutcome {
  let best = POLL_OUTCOMES.indexOf('timeout');
  for (const o of outcomes) {
    const rank = POLL_OUTCOMES.indexOf(o.kind === 'answer' ? o.why : o.kind === 'error' ? 'error' : 'timeout');
    if (rank < best) best = rank;
  }
  return POLL_OUTCOMES[best]!;
}
