import { requireRead, type Principal } from './access.js';
import { serializeAnswer, type AnswerParts } from './answer.js';
import type { Clock } from './clock.js';
import { parseCursor } from './cursor.js';
import { HubError, isHubError } from './errors.js';
import { wants, type DeltaFilter } from './filter.js';
import { HoldTimers } from './hold-timers.js';
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
  /** Aborted when the client goes away: the hold is dropped at once. */
  signal?: AbortSignal;
  /** Extra fields of a join answer. */
  join?: { viewerId: string; advice: Advice };
}

export interface PollerOptions {
  holdTimeoutMs: number;
  /** min(MAX_BATCH, RING_SIZE). */
  maxBatch: number;
  presenceTtlMs: number;
  /** Granularity of hold timeouts. @default 100 */
  tickMs?: number;
}

/** What inspecting one sub found: an answer now, or where to wait. */
type Outcome =
  | { kind: 'answer'; body: string }
  | { kind: 'error'; error: HubError }
  | { kind: 'wait'; epoch: string; seq: number };

/** A parked sub: one event of one held poll. */
interface Sub {
  hold: Hold;
  index: number;
  eventId: string;
  epoch: string;
  seq: number;
}

/** A held request: settled exactly once, by news, timeout, token expiry, drain or abort. */
interface Hold {
  req: PollRequest;
  subs: Sub[];
  settled: boolean;
  /** A body, a refusal (single polls whose event vanished), or null when the client left. */
  resolve: (result: string | HubError | null) => void;
  onAbort: (() => void) | null;
}

/**
 * Holds polls until their event's cursor advances. Reads once per wake per event, serialises
 * each distinct (cursor, filter) answer once, and hands the same string to every hold it fits.
 */
export class Poller {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly options: PollerOptions;
  private readonly byEvent = new Map<string, Set<Sub>>();
  private readonly timers: HoldTimers<Hold>;
  private readonly holds = new Set<Hold>();
  /** Per event, a counter bumped on every change: closes the gap between a read and parking. */
  private readonly changes = new Map<string, number>();
  /** Events whose wake is running; true when another change came in meanwhile. */
  private readonly waking = new Map<string, boolean>();
  private draining = false;

  constructor(store: Store, clock: Clock, options: PollerOptions) {
    this.store = store;
    this.clock = clock;
    this.options = options;
    this.timers = new HoldTimers<Hold>(clock, options.tickMs ?? 100, (hold) => void this.settleQuiet(hold));
  }

  /** How many requests are held now. */
  get held(): number {
    return this.holds.size;
  }

  /** Answers a poll: at once when there is news, else when news, timeout, token expiry or drain comes. */
  async poll(req: PollRequest): Promise<string | null> {
    if (this.draining) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    const marks = req.subs.map((s) => this.changes.get(s.eventId) ?? 0);
    const outcomes = await Promise.all(req.subs.map((s) => this.inspect(s, req)));
    if (!req.multi) {
      const only = outcomes[0]!;
      if (only.kind === 'error') throw only.error;
      if (only.kind === 'answer') return this.finish(req, only.body);
    } else if (outcomes.some((o) => o.kind !== 'wait')) {
      return this.finish(req, await this.results(req, outcomes));
    }
    const now = this.clock.now();
    const expiry = req.principal?.expiresAt ?? Infinity;
    const deadline = Math.min(now + req.holdMs, expiry);
    if (req.holdMs === 0 || deadline <= now || req.signal?.aborted) {
      return this.finish(req, await this.results(req, outcomes));
    }
    if (this.draining) return this.finish(req, await this.results(req, outcomes, this.drainAdvice()));
    return this.park(req, outcomes as Array<Extract<Outcome, { kind: 'wait' }>>, deadline, marks);
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

  /** Answers every held poll at once with its cursor and a jittered retry; refuses new ones. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([...this.holds].map((hold) => this.settleQuiet(hold, this.drainAdvice())));
  }

  /** Drops every hold without answering and stops the timer wheel (after drain, or in tests). */
  close(): void {
    this.draining = true;
    for (const hold of [...this.holds]) this.release(hold, null);
    this.timers.stop();
  }

  private drainAdvice(): Advice {
    // Spread the reconnects over a second so a drained server's viewers do not arrive as one spike.
    return { timeoutMs: this.options.holdTimeoutMs, retryMs: Math.floor(Math.random() * 1000) };
  }

  /** Decides what one sub gets now: news, an error, or where to wait. */
  private async inspect(sub: PollSub, req: PollRequest): Promise<Outcome> {
    try {
      if (sub.cursor === null) {
        const snap = await this.store.snapshot(sub.eventId);
        if (!snap) throw new HubError('not_found', `no event ${sub.eventId}`);
        requireRead(req.principal, snap.record);
        const viewers = await this.viewers(sub.eventId, req.viewer);
        const parts: AnswerParts = {
          event: sub.eventId, epoch: snap.record.epoch, seq: snap.record.head, entries: [], more: false,
          viewers, reset: false, ended: snap.record.state === 'ended', snapshot: snap.snapshot,
        };
        if (req.join) Object.assign(parts, { viewerId: req.join.viewerId, advice: req.join.advice });
        return { kind: 'answer', body: serializeAnswer(parts) };
      }
      const cursor = parseCursor(sub.cursor, req.multi ? `subs.${sub.eventId}` : 'cursor');
      const read = await this.store.read(sub.eventId, cursor.seq, this.options.maxBatch);
      if (!read) throw new HubError('not_found', `no event ${sub.eventId}`);
      requireRead(req.principal, read.record);
      if (read.record.epoch === cursor.epoch && cursor.seq > read.record.head) {
        throw new HubError('invalid_cursor', 'the cursor is ahead of the log', { field: req.multi ? `subs.${sub.eventId}` : 'cursor' });
      }
      await this.touch(sub.eventId, req.viewer, this.clock.now() + req.holdMs + this.options.presenceTtlMs);
      let current = read;
      for (;;) {
        const outcome = await this.evaluate(sub.eventId, cursor.epoch, cursor.seq, req.filter, current);
        // Everything in this batch was filtered out but more is logged: keep reading before waiting.
        if (outcome.kind !== 'wait' || outcome.seq >= current.record.head) return outcome;
        cursor.seq = outcome.seq;
        const next = await this.store.read(sub.eventId, cursor.seq, this.options.maxBatch);
        if (!next) throw new HubError('not_found', `no event ${sub.eventId}`);
        current = next;
      }
    } catch (err) {
      if (isHubError(err)) return { kind: 'error', error: err };
      throw err;
    }
  }

  /** Given a read after `seq`, the answer for a viewer at (epoch, seq) with this filter, or where it waits. */
  private async evaluate(eventId: string, epoch: string, seq: number, filter: DeltaFilter, read: ReadResult): Promise<Outcome> {
    const { record } = read;
    if (record.epoch !== epoch || seq < read.oldest - 1) {
      const missed = record.epoch !== epoch ? null : record.head - seq;
      return { kind: 'answer', body: await this.resetBody(eventId, missed) };
    }
    const slice = sliceAfter(read.entries, seq, this.options.maxBatch);
    const matched = slice.filter((e) => wants(filter, e));
    const last = slice.length > 0 ? slice[slice.length - 1]!.seq : seq;
    const ended = record.state === 'ended';
    if (matched.length > 0 || ended) {
      const viewers = await this.store.countPresence(eventId, this.clock.now());
      return {
        kind: 'answer',
        body: serializeAnswer({ event: eventId, epoch, seq: last, entries: matched, more: last < record.head, viewers, reset: false, ended }),
      };
    }
    return { kind: 'wait', epoch, seq: last };
  }

  private async resetBody(eventId: string, missed: number | null): Promise<string> {
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    const viewers = await this.store.countPresence(eventId, this.clock.now());
    return serializeAnswer({
      event: eventId, epoch: snap.record.epoch, seq: snap.record.head, entries: [], more: false, viewers,
      reset: true, ended: snap.record.state === 'ended', snapshot: snap.snapshot, missed,
    });
  }

  /** Parks a hold on each of its events, armed to time out at `deadline`. */
  private park(req: PollRequest, waits: Array<Extract<Outcome, { kind: 'wait' }>>, deadline: number, marks: number[]): Promise<string | null> {
    return new Promise<string | null>((resolve, reject) => {
      const settle = (result: string | HubError | null): void => (isHubError(result) ? reject(result) : resolve(result));
      const hold: Hold = { req, subs: [], settled: false, resolve: settle, onAbort: null };
      hold.subs = waits.map((w, index) => ({ hold, index, eventId: req.subs[index]!.eventId, epoch: w.epoch, seq: w.seq }));
      this.holds.add(hold);
      for (const sub of hold.subs) {
        let set = this.byEvent.get(sub.eventId);
        if (!set) this.byEvent.set(sub.eventId, (set = new Set()));
        set.add(sub);
      }
      this.timers.add(hold, deadline);
      if (req.signal) {
        hold.onAbort = () => this.release(hold, null);
        req.signal.addEventListener('abort', hold.onAbort, { once: true });
      }
      // A change that landed between our read and now would otherwise wait for the next one.
      hold.subs.forEach((sub, i) => {
        if ((this.changes.get(sub.eventId) ?? 0) !== marks[i]) this.notify(sub.eventId);
      });
    });
  }

  /** Reads new entries once for every hold on the event and answers those that have news. */
  private async wake(eventId: string): Promise<void> {
    try {
      do {
        this.waking.set(eventId, false);
        await this.wakeOnce(eventId);
      } while (this.waking.get(eventId) === true && this.byEvent.has(eventId));
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
      low = Math.min(low, s.seq);
      high = Math.max(high, s.seq);
    }
    let read: ReadResult | null;
    try {
      read = await this.store.read(eventId, low, this.options.maxBatch + (high - low));
    } catch (err) {
      // The store is down: answer the holds with their cursors so clients retry elsewhere or later.
      if (!isHubError(err)) throw err;
      for (const s of [...subs]) void this.settleQuiet(s.hold);
      return;
    }
    // Group by (epoch, seq, filter): each group's answer is computed and serialised once.
    const groups = new Map<string, Sub[]>();
    for (const s of subs) {
      if (s.hold.settled) continue;
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
      for (const s of group) if (!s.hold.settled) void this.settleWith(s, outcome);
    }
  }

  /** Settles a hold because one of its subs has news (or an error). */
  private async settleWith(sub: Sub, outcome: Exclude<Outcome, { kind: 'wait' }>): Promise<void> {
    const { hold } = sub;
    const req = hold.req;
    this.detach(hold);
    if (!req.multi) {
      this.release(hold, outcome.kind === 'answer' ? outcome.body : outcome.error);
      return;
    }
    const outcomes: Outcome[] = hold.subs.map((s) => (s === sub ? outcome : { kind: 'wait', epoch: s.epoch, seq: s.seq }));
    this.release(hold, await this.results(req, outcomes));
  }

  /** Answers a hold with no news: timeout, token expiry or drain. */
  private async settleQuiet(hold: Hold, advice?: Advice): Promise<void> {
    if (hold.settled) return;
    this.detach(hold);
    const outcomes: Outcome[] = hold.subs.map((s) => ({ kind: 'wait', epoch: s.epoch, seq: s.seq }));
    this.release(hold, await this.results(hold.req, outcomes, advice));
  }

  /** The body for a set of outcomes: the single answer, or `{results: [...]}`. */
  private async results(req: PollRequest, outcomes: Outcome[], advice?: Advice): Promise<string> {
    const bodies = await Promise.all(
      outcomes.map(async (o, i) => {
        const eventId = req.subs[i]!.eventId;
        if (o.kind === 'answer') return o.body;
        if (o.kind === 'error') return JSON.stringify({ event: eventId, status: o.error.status, ...o.error.toBody() });
        const viewers = await this.store.countPresence(eventId, this.clock.now()).catch(() => 0);
        const parts: AnswerParts = { event: eventId, epoch: o.epoch, seq: o.seq, entries: [], more: false, viewers, reset: false, ended: false };
        if (advice) parts.advice = advice;
        return serializeAnswer(parts);
      }),
    );
    return req.multi ? `{"results":[${bodies.join(',')}]}` : bodies[0]!;
  }

  /** Takes a hold out of every index, so nothing else can settle it. */
  private detach(hold: Hold): void {
    if (hold.settled) return;
    hold.settled = true;
    this.holds.delete(hold);
    this.timers.delete(hold);
    for (const sub of hold.subs) {
      const set = this.byEvent.get(sub.eventId);
      set?.delete(sub);
      if (set && set.size === 0) this.byEvent.delete(sub.eventId);
    }
    if (hold.onAbort) hold.req.signal?.removeEventListener('abort', hold.onAbort);
    hold.onAbort = null;
  }

  /** The one exit of every hold: detach, refresh presence, resolve. */
  private release(hold: Hold, result: string | HubError | null): void {
    this.detach(hold);
    void this.finish(hold.req, null);
    hold.resolve(result);
  }

  /** After an answer, the viewer counts for PRESENCE_TTL_MS more. */
  private async finish(req: PollRequest, body: string | null): Promise<string | null> {
    const until = this.clock.now() + this.options.presenceTtlMs;
    await Promise.all(req.subs.map((s) => this.touch(s.eventId, req.viewer, until)));
    return body;
  }

  private async touch(eventId: string, viewer: string | null, until: number): Promise<void> {
    if (viewer === null) return;
    // Presence is best effort: a store hiccup must not fail the poll that carries the deltas.
    await this.store.touchPresence(eventId, viewer, until).catch(() => undefined);
  }

  private async viewers(eventId: string, viewer: string | null): Promise<number> {
    await this.touch(eventId, viewer, this.clock.now() + this.options.presenceTtlMs);
    return this.store.countPresence(eventId, this.clock.now());
  }
}

/** Entries after `seq`, at most `limit` (the read may have started lower for another group). */
function sliceAfter(entries: readonly LogEntry[], seq: number, limit: number): LogEntry[] {
  let i = 0;
  while (i < entries.length && entries[i]!.seq <= seq) i++;
  return entries.slice(i, i + limit);
}
