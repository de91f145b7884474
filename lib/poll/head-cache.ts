import { LRUCache } from 'lru-cache';
import type { EventRecord } from '../model/records.js';
import type { Clock } from '../util/clock.js';
import type { ReadResult } from '../store/types.js';
import type { KeptAnswer, KnownRecords } from './reader.js';

/** Marks kept before those of events without waiters are dropped. */
const MIN_TRACKED_CHANGES = 4096;

/** How long a remembered record lets polls at its head park without a read. */
export const KNOWN_TRUST_MS = 5000;

/** A kept answer with the change mark it was made at. */
interface KeptEntry {
  mark: number;
  answer: KeptAnswer;
}

/** What the polls of one event share between two of its changes. */
interface PerChange {
  /** The change mark it was taken at. */
  mark: number;
  /** clock.now() when it was started. */
  at: number;
  /** Where `read` starts: it serves every cursor at or above. */
  low: number;
  read: Promise<ReadResult | null> | null;
  viewers: Promise<number> | null;
}

/** Bounds of the kept answers. */
export interface HeadCacheOptions {
  /** Memory for answers kept for polls behind the head, across all events (text and bytes). */
  keptBytes: number;
  /** How long a kept answer, a shared read and a presence count serve, however quiet the event. */
  keptTtlMs: number;
}

/**
 * What the poller knows of each event's head without asking the store: a change mark per event
 * (bumped on every change the store announces), the record as the last read saw it, answers
 * polls got at once, and the read and the presence count taken since the last change. Each is
 * good only while its event's mark is the one it was taken at (and, but for the record, for
 * keptTtlMs at most), so a poll at a known head parks without a read, a burst of re-polls at
 * many cursors costs one read and one count per change, and nothing stale is ever served.
 */
export class HeadCache implements KnownRecords {
  /**
   * Per event, the tick of its last change: closes the gap between a read and parking. Any id
   * may be announced (every event of the store, real or not), so the marks of events nobody
   * waits on are dropped past a bound; a dropped one reads as `floor`, the tick of the last
   * prune, which differs from every mark taken before it: a read in flight then re-reads once.
   */
  private readonly changes = new Map<string, number>();
  private tick = 0;
  private floor = 0;
  private changesBound = MIN_TRACKED_CHANGES;
  /**
   * Each event's record as the last read saw it, with the change mark before that read and
   * when: trusted KNOWN_TRUST_MS at most, so keys that vanish or go back without an announced
   * change (FLUSHDB, eviction, a rollback) are noticed by the next poll after that.
   */
  private readonly known = new Map<string, { record: EventRecord; mark: number; at: number }>();
  /**
   * Answers polls got at once, by event and (cursor, filter): the next polls with that cursor
   * take them until the event changes or the TTL passes. Bounded by the bytes of their bodies
   * across all events, so many events or many distinct cursors cannot grow it past keptBytes.
   */
  private readonly kept: LRUCache<string, KeptEntry>;
  /**
   * Per event, the read and the presence count taken since its last change: every poll and wake
   * until the next change (or for keptTtlMs at most, as the count ages like a kept answer's)
   * shares them (issue 16). Replaced at the event's next change; a deleted event drops its own.
   */
  private readonly perChange = new Map<string, PerChange>();

  constructor(
    private readonly clock: Clock,
    private readonly options: HeadCacheOptions,
    /** Whether polls wait on or are being woken for an event: its mark is then never dropped. */
    private readonly busy: (eventId: string) => boolean = () => false,
  ) {
    this.kept = new LRUCache<string, KeptEntry>({
      maxSize: options.keptBytes,
      // One huge answer must not push out all the others: larger ones are not kept.
      maxEntrySize: options.keptBytes / 16,
      // The viewer count inside goes stale too; the re-polls of one wake all come within it.
      // Checked when read (no autopurge timer), on the injected clock like every other deadline.
      ttl: options.keptTtlMs,
      perf: { now: () => clock.now() },
      // Read the clock every time rather than cache it behind a 1 ms timer.
      ttlResolution: 0,
      // The text and, once a poll has been answered with it, its UTF-8 bytes and their latin1 string.
      sizeCalculation: (v) => 3 * v.answer.outcome.body.length + 64,
    });
  }

  /** The store announced a change of the event: what was known of it is no longer. */
  changed(eventId: string): void {
    this.changes.set(eventId, ++this.tick);
    if (this.changes.size > this.changesBound) this.prune();
  }

  /** Marks kept (bounded: those of events nobody waits on are dropped). */
  get tracked(): number {
    return this.changes.size;
  }

  /** Drops the marks (and what was known and shared) of events no poll waits on. */
  private prune(): void {
    this.floor = this.tick;
    for (const id of this.changes.keys()) {
      if (this.busy(id)) continue;
      this.changes.delete(id);
      this.forget(id);
    }
    // As many events may have waiters: prune again only once the map has doubled.
    this.changesBound = Math.max(MIN_TRACKED_CHANGES, 2 * this.changes.size);
  }

  /** The event has no record (a read found none): forget what was known and shared. */
  forget(eventId: string): void {
    this.known.delete(eventId);
    this.perChange.delete(eventId);
  }

  mark(eventId: string): number {
    return this.changes.get(eventId) ?? this.floor;
  }

  get(eventId: string): EventRecord | null {
    const k = this.known.get(eventId);
    if (!k || k.mark !== this.mark(eventId)) return null;
    if (this.clock.now() - k.at >= KNOWN_TRUST_MS) {
      this.known.delete(eventId);
      return null;
    }
    return k.record;
  }

  set(eventId: string, record: EventRecord, mark: number): void {
    const k = this.known.get(eventId);
    // A slower, older read must not replace what a newer one learnt.
    if (!k || k.mark <= mark) this.known.set(eventId, { record, mark, at: this.clock.now() });
  }

  answer(eventId: string, key: string): KeptAnswer | null {
    const k = this.kept.get(`${eventId}\n${key}`);
    return k && k.mark === this.mark(eventId) ? k.answer : null;
  }

  keep(eventId: string, key: string, mark: number, answer: KeptAnswer): void {
    // Something changed since the read began: the answer may already be stale.
    if (mark !== this.mark(eventId)) return;
    this.kept.set(`${eventId}\n${key}`, { mark, answer });
  }

  readFrom(eventId: string, from: number): Promise<ReadResult | null> | null {
    const c = this.current(eventId);
    return c?.read && c.low <= from ? c.read : null;
  }

  shareRead(eventId: string, mark: number, low: number, read: Promise<ReadResult | null>): void {
    if (mark !== this.mark(eventId)) return;
    const c = this.current(eventId) ?? this.startChange(eventId, mark);
    // A read from lower serves more cursors; the first one stays when it starts lower.
    if (c.read === null || low < c.low) {
      c.read = read;
      c.low = low;
      // A failed read is not shared: the next poll reads again.
      read.catch(() => {
        if (c.read === read) {
          c.read = null;
          c.low = Infinity;
        }
      });
    }
  }

  viewers(eventId: string, count: () => Promise<number>): Promise<number> {
    const c = this.current(eventId) ?? this.startChange(eventId, this.mark(eventId));
    if (c.viewers === null) {
      const counting = count();
      c.viewers = counting;
      // A failed count is not kept: the next poll tries again.
      counting.catch(() => {
        if (c.viewers === counting) c.viewers = null;
      });
    }
    return c.viewers;
  }

  /** The event's per-change entry when it is of the current change and young enough, else null. */
  private current(eventId: string): PerChange | null {
    const c = this.perChange.get(eventId);
    return c && c.mark === this.mark(eventId) && this.clock.now() - c.at <= this.options.keptTtlMs ? c : null;
  }

  private startChange(eventId: string, mark: number): PerChange {
    const c: PerChange = { mark, at: this.clock.now(), low: Infinity, read: null, viewers: null };
    this.perChange.set(eventId, c);
    return c;
  }
}
