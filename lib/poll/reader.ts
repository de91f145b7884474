import { canRead, requireRead, type Principal } from '../model/access.js';
import { serializeAnswer, SharedAnswer, type AnswerParts } from './answer.js';
import type { Clock } from '../util/clock.js';
import { CURSOR_PATTERN, EMPTY_TAG, parseCursor, tagAgrees } from '../model/cursor.js';
import { HubError, isHubError } from '../model/errors.js';
import { wants, type DeltaFilter } from './filter.js';
import type { HubObserver, PollOutcome } from '../observer.js';
import type { Advice } from '../protocol.js';
import type { EventLog, PresenceStore, ReadResult } from '../store/types.js';
import type { EventRecord, LogEntry } from '../model/records.js';

/** Event records as the poller last read them, valid while no change was announced since. */
export interface KnownRecords {
  /** The record as last read, when nothing changed since; else null. */
  get(eventId: string): EventRecord | null;
  /** The change mark to take before a read whose record set() will remember. */
  mark(eventId: string): number;
  /** Remembers a record read after `mark` was taken. */
  set(eventId: string, record: EventRecord, mark: number): void;
  /** The answer kept for `key` (epoch, seq, filter) while nothing changed since it was made; else null. */
  answer(eventId: string, key: string): KeptAnswer | null;
  /** Keeps an answer made from a read that began at `mark` (dropped at once if something changed since). */
  keep(eventId: string, key: string, mark: number, kept: KeptAnswer): void;
  /**
   * A read of the event begun since its last change (in flight or landed) that starts at or
   * below `from`, for a cursor at `from` to use instead of reading again; else null.
   */
  readFrom(eventId: string, from: number): Promise<ReadResult | null> | null;
  /** Offers a read begun at `mark` after `low` to the polls that come before the next change. */
  shareRead(eventId: string, mark: number, low: number, read: Promise<ReadResult | null>): void;
  /** The presence count taken since the event's last change, or `count()` taken now and kept until the next. */
  viewers(eventId: string, count: () => Promise<number>): Promise<number>;
}

/** What a read (or a kept answer) gives a cursor, before the request's own checks. */
type KeptOrRead = { record: EventRecord; outcome: Outcome };

/** An answer a poll got at once, kept for the next polls with the same cursor and filter. */
export interface KeptAnswer {
  /** The record it was made from: each poll that takes it still needs read access to it. */
  record: EventRecord;
  outcome: Extract<Outcome, { kind: 'answer' }>;
}

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
  /** A hold of a stream (lib/follower.ts), not of a poll request: counted apart. */
  stream?: boolean;
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

/** Why an answer with a body is news. */
export type AnswerKind = Extract<PollOutcome, 'delta' | 'reset' | 'ended' | 'snapshot'>;

/** What looking at one followed event found: an answer now, a refusal, or where to wait. */
export type Outcome =
  /** `shared`: the body's bytes, when the answer is kept for several polls. */
  | { kind: 'answer'; body: string; why: AnswerKind; entries: readonly LogEntry[]; shared?: SharedAnswer }
  | { kind: 'error'; error: HubError }
  | { kind: 'wait'; epoch: string; seq: number; tag: string };
export type Wait = Extract<Outcome, { kind: 'wait' }>;
export type Settled = Exclude<Outcome, Wait>;

const NO_ENTRIES: readonly LogEntry[] = Object.freeze([]);

export interface PollReaderOptions {
  /** min(MAX_BATCH, RING_SIZE). */
  maxBatch: number;
  presenceTtlMs: number;
}

/**
 * Reads the store for polls and builds their answers: what a cursor gets now, the answer for
 * a group of waiters after a wake, and quiet answers. Holds no poll state of its own.
 */
export class PollReader {
  /** Reads under way, by event, cursor, filter and change mark: polls arriving together share one. */
  private readonly flights = new Map<string, Promise<KeptOrRead>>();

  constructor(
    private readonly store: EventLog & PresenceStore,
    private readonly clock: Clock,
    private readonly observer: HubObserver,
    private readonly options: PollReaderOptions,
  ) {}

  /**
   * Decides what one followed event gives a request now: news, an error, or where to wait.
   * `known` lets a poll at the head of an unchanged event wait without reading the store: the
   * re-polls that follow every wake then cost no store round trip.
   */
  async inspect(sub: PollSub, req: PollRequest, known?: KnownRecords): Promise<Outcome> {
    try {
      if (sub.cursor === null) return { kind: 'answer', body: await this.joinBody(sub.eventId, req), why: 'snapshot', entries: NO_ENTRIES };
      const field = req.multi ? `subs.${sub.eventId}` : 'cursor';
      const waiting = known ? atKnownHead(sub, req, known) : null;
      if (waiting) {
        await this.touchHeld(sub.eventId, req);
        return waiting;
      }
      const cursor = parseCursor(sub.cursor, field);
      const { record: latest, outcome } = await this.readOutcome(sub.eventId, cursor.epoch, cursor.seq, cursor.tag, req.filter, known);
      requireRead(req.principal, latest);
      // Only a poll that waits counts as held; one answered now is touched when answered.
      if (outcome.kind === 'wait') await this.touchHeld(sub.eventId, req);
      return outcome;
    } catch (err) {
      if (isHubError(err)) return { kind: 'error', error: err };
      throw err;
    }
  }

  /**
   * What inspect() would say, decided now without the store, when every followed event is known
   * unchanged since the poller last read it and the cursor is at its head: the re-polls after
   * every wake. Null when any of them needs more (a join, a read, a refusal to word). The
   * presence touch is not waited for: `touchFailed` hears it if the store refuses it (Redis
   * away), as inspect() would have answered.
   */
  waitsAtKnownHead(req: PollRequest, known: KnownRecords, touchFailed: (err: unknown) => void): Wait[] | null {
    const waits: Wait[] = [];
    for (const sub of req.subs) {
      const wait = atKnownHead(sub, req, known);
      if (wait === null) return null;
      waits.push(wait);
    }
    if (req.viewer !== null) for (const sub of req.subs) this.touchHeld(sub.eventId, req).catch(touchFailed);
    return waits;
  }

  /**
   * What a cursor gets from the event as it stands, with the record that says who may read it;
   * the same for every poll with this cursor and filter until the event changes. The viewers a
   * wake answered come back with the same cursor, often after the next change: the first of them
   * reads and builds the answer, polls arriving meanwhile share its read, later ones take the
   * kept answer (its bytes included) until the event changes again.
   */
  private async readOutcome(eventId: string, epoch: string, seq: number, tag: string | null, filter: DeltaFilter, known?: KnownRecords): Promise<KeptOrRead> {
    const key = `${epoch}|${seq}|${tag ?? ''}|${filter.key}`;
    const kept = known?.answer(eventId, key);
    if (kept) return kept;
    const mark = known?.mark(eventId) ?? 0;
    const flightKey = `${eventId}\n${key}\n${mark}`;
    const flying = this.flights.get(flightKey);
    if (flying) return flying;
    const flight = this.readFresh(eventId, epoch, seq, tag, filter, key, mark, known);
    this.flights.set(flightKey, flight);
    const landed = () => void this.flights.delete(flightKey);
    flight.then(landed, landed);
    // Returned, not awaited here: the poll that started the read resumes no earlier than those
    // that joined it, so polls sharing a read still settle in the order they arrived.
    return flight;
  }

  /** readOutcome's store read: evaluates, keeps an answer, reads on past filtered-out batches. */
  private async readFresh(eventId: string, epoch: string, seq: number, tag: string | null, filter: DeltaFilter, key: string, mark: number, known?: KnownRecords): Promise<KeptOrRead> {
    // Every cursor of the event shares one read per change: the wake's, or the first poll's
    // from at or below this cursor (its entries after this cursor are what a read from here gives).
    let reading = known?.readFrom(eventId, seq) ?? null;
    let shared = reading !== null;
    if (reading === null) {
      reading = this.store.read(eventId, seq, this.options.maxBatch);
      known?.shareRead(eventId, mark, seq, reading);
    }
    let read = await reading;
    if (!read) throw new HubError('not_found', `no event ${eventId}`);
    // The next polls at this head need not read again: a change announced while no poll was
    // parked (so no wake read it) would otherwise leave every later poll reading.
    known?.set(eventId, read.record, mark);
    for (;;) {
      const outcome = await this.evaluate(eventId, epoch, seq, tag, filter, read, known);
      if (outcome.kind === 'answer' && outcome.why === 'reset' && shared) {
        // A shared read may predate this cursor: another server answered it after appends whose
        // wakes have not reached us yet. Only a read of our own may conclude the log went back.
        shared = false;
        const fresh = await this.store.read(eventId, seq, this.options.maxBatch);
        if (!fresh) throw new HubError('not_found', `no event ${eventId}`);
        read = fresh;
        continue;
      }
      if (outcome.kind === 'answer') {
        const kept = { record: read.record, outcome: { ...outcome, shared: new SharedAnswer(outcome.body) } };
        known?.keep(eventId, key, mark, kept);
        return kept;
      }
      if (outcome.kind !== 'wait' || outcome.seq >= read.record.head) return { record: read.record, outcome };
      // Everything in this batch was filtered out but more is logged: keep reading before waiting.
      seq = outcome.seq;
      tag = outcome.tag;
      const next = await this.store.read(eventId, seq, this.options.maxBatch);
      if (!next) throw new HubError('not_found', `no event ${eventId}`);
      read = next;
    }
  }

  /**
   * Given a read after `seq` (or from below it), the answer for a viewer at (epoch, seq, tag)
   * with this filter, or where it waits. A cursor that is not a position of this log answers a
   * reset with a fresh snapshot: another epoch, a seq past the head or a tag the log does not
   * have there (the log went back, as after a failover to a replica that lacked the last
   * appends, and may have re-used the seq with other deltas), or a seq the ring no longer holds.
   * `missed` says how many deltas were skipped when that is known (the ring), else null. With
   * `known`, the viewer count is the one taken since the event's last change.
   */
  async evaluate(eventId: string, epoch: string, seq: number, tag: string | null, filter: DeltaFilter, read: ReadResult, known?: KnownRecords): Promise<Outcome> {
    const { record } = read;
    const logTag = record.epoch === epoch && seq <= record.head ? tagAt(read, seq) : null;
    if (record.epoch !== epoch || seq > record.head || seq < read.oldest - 1 || (logTag !== null && !tagAgrees(tag, logTag))) {
      // Known only when the cursor is a position of this log that the ring no longer holds.
      const missed = record.epoch === epoch && seq <= record.head && (logTag === null || tagAgrees(tag, logTag)) ? record.head - seq : null;
      return { kind: 'answer', body: await this.resetBody(eventId, missed), why: 'reset', entries: NO_ENTRIES };
    }
    const slice = sliceAfter(read.entries, seq, this.options.maxBatch);
    const matched = slice.filter((e) => wants(filter, e));
    const lastEntry = slice.length > 0 ? slice[slice.length - 1]! : null;
    const last = lastEntry ? lastEntry.seq : seq;
    // The position's tag for the next cursor: '' only for entries written before tags.
    const lastTag = (lastEntry ? lastEntry.tag : logTag || tag) || EMPTY_TAG;
    const ended = record.state === 'ended';
    if (matched.length === 0 && !ended) return { kind: 'wait', epoch, seq: last, tag: lastTag };
    const viewers = await (known ? known.viewers(eventId, () => this.countViewers(eventId)) : this.countViewers(eventId));
    return {
      kind: 'answer',
      body: serializeAnswer({ event: eventId, epoch, seq: last, tag: lastTag, entries: matched, more: last < record.head, viewers, reset: false, ended }),
      why: matched.length > 0 ? 'delta' : 'ended',
      entries: matched,
    };
  }

  /**
   * The body for a request's outcomes: the single answer, or `{results: [...]}`; waits answer as
   * they stand. `count` gives the presence counts (a caller answering many requests at once
   * passes one that counts each event once).
   */
  async results(req: PollRequest, outcomes: readonly Outcome[], advice?: Advice, count: (eventId: string) => Promise<number> = (e) => this.countOrZero(e)): Promise<string> {
    const bodies = await Promise.all(
      outcomes.map(async (o, i) => {
        const eventId = req.subs[i]!.eventId;
        if (o.kind === 'answer') return o.body;
        if (o.kind === 'error') return JSON.stringify({ event: eventId, status: o.error.status, ...o.error.toBody() });
        return serializeAnswer(this.quietParts(eventId, o, await count(eventId), advice));
      }),
    );
    return req.multi ? `{"results":[${bodies.join(',')}]}` : bodies[0]!;
  }

  /** The parts of an answer with no news at a cursor. */
  quietParts(eventId: string, at: { epoch: string; seq: number; tag: string }, viewers: number, advice?: Advice): AnswerParts {
    const parts: AnswerParts = { event: eventId, epoch: at.epoch, seq: at.seq, tag: at.tag, entries: [], more: false, viewers, reset: false, ended: false };
    if (advice) parts.advice = advice;
    return parts;
  }

  /** The event's presence count now (also a sample for the observer). */
  count(eventId: string): Promise<number> {
    return this.countViewers(eventId);
  }

  /** The presence count, or 0 when the store cannot count: a quiet answer's cursor is what matters. */
  countOrZero(eventId: string): Promise<number> {
    return this.countViewers(eventId).catch(() => 0);
  }

  /** A viewer counts while its poll is held and PRESENCE_TTL_MS after. */
  private async touchHeld(eventId: string, req: PollRequest): Promise<void> {
    if (req.viewer === null) return;
    await this.store.touchPresence(eventId, req.viewer, this.clock.now() + req.holdMs + this.options.presenceTtlMs);
  }

  private async joinBody(eventId: string, req: PollRequest): Promise<string> {
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    requireRead(req.principal, snap.record);
    if (req.viewer !== null) await this.store.touchPresence(eventId, req.viewer, this.clock.now() + this.options.presenceTtlMs);
    const parts: AnswerParts = {
      event: eventId, epoch: snap.record.epoch, seq: snap.record.head, tag: snap.record.tag, entries: [], more: false,
      viewers: await this.countViewers(eventId), reset: false,
      ended: snap.record.state === 'ended', snapshot: snap.snapshot,
    };
    if (req.join) Object.assign(parts, { viewerId: req.join.viewerId, advice: req.join.advice });
    return serializeAnswer(parts);
  }

  private async resetBody(eventId: string, missed: number | null): Promise<string> {
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    const viewers = await this.countViewers(eventId);
    return serializeAnswer({
      event: eventId, epoch: snap.record.epoch, seq: snap.record.head, tag: snap.record.tag, entries: [], more: false, viewers,
      reset: true, ended: snap.record.state === 'ended', snapshot: snap.snapshot, missed,
    });
  }

  /** The event's presence count, as every answer carries it; also a sample for the observer. */
  private async countViewers(eventId: string): Promise<number> {
    const count = await this.store.countPresence(eventId, this.clock.now());
    this.observer.viewers(eventId, count);
    return count;
  }
}

/**
 * Where a poll waits when its event is known unchanged, readable by it and not ended, and its
 * cursor is at the head; null when anything else must be looked at (or worded as a refusal).
 */
function atKnownHead(sub: PollSub, req: PollRequest, known: KnownRecords): Wait | null {
  if (sub.cursor === null) return null;
  const record = known.get(sub.eventId);
  if (record === null || record.state === 'ended' || !canRead(req.principal, record)) return null;
  const cursor = CURSOR_PATTERN.exec(sub.cursor);
  if (cursor === null || cursor[1] !== record.epoch || Number(cursor[2]) !== record.head) return null;
  // Another tag at the head: not this log's position (a rollback); the read answers the reset.
  if (!tagAgrees(cursor[3] ?? null, record.tag)) return null;
  return { kind: 'wait', epoch: record.epoch, seq: record.head, tag: record.tag };
}

/**
 * The log's tag at `seq` as this read shows it: the record's at the head, else the entry after
 * it names it (prev), else the entry itself; null when the read holds neither (seq not held).
 */
function tagAt(read: ReadResult, seq: number): string | null {
  if (seq === read.record.head) return read.record.tag;
  for (const e of read.entries) {
    if (e.seq === seq + 1) return e.prev;
    if (e.seq === seq) return e.tag;
    if (e.seq > seq + 1) break;
  }
  return null;
}

/** Entries after `seq`, at most `limit` (the read may have started lower for another group). */
function sliceAfter(entries: readonly LogEntry[], seq: number, limit: number): LogEntry[] {
  let i = 0;
  while (i < entries.length && entries[i]!.seq <= seq) i++;
  return entries.slice(i, i + limit);
}
