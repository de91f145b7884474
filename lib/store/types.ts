import type { EventRecord, IdempotencyKind, LogEntry, StatsCounters, StatsMinute } from '../model/records.js';
import type { DeltaDraft, EventMeta, EventState, Snapshot } from '../protocol.js';
import { HubError } from '../model/errors.js';

/**
 * The contract both stores keep (memory and Redis). The hub talks to nothing else; every
 * method is async so the two are interchangeable, and every refusal is a HubError.
 * The shared contract suite in test/store.contract.test.ts runs against both.
 */

/** Conditions checked atomically with an append; a failed one appends nothing. */
export interface AppendOptions {
  /** Timestamp to stamp on the delta (the hub's clock). */
  now: number;
  /** Refuse with 409 event_ended when the event has ended. @default true */
  requireOpen?: boolean;
  /** For scores with a version: refuse with 409 stale_version unless it is above lastVersion. */
  version?: number;
}

/** The outcome of an append. */
export interface AppendResult {
  entry: LogEntry;
  epoch: string;
}

/**
 * What makes an append happen at most once, checked and recorded in the same atomic step as
 * the append itself, so an append whose reply was lost (a timeout, a dropped connection, a
 * server killed) is never applied again by its retry.
 * - `request`: an Idempotency-Key (scoped by the caller). The answer is recorded with the
 *   append: `body` may hold APPEND_MARKS, replaced by the appended entry's epoch, seq and tag.
 * - `source` + `window`: a reaction window, the `window`-th of this `source` (a server) on this
 *   event; windows of one source are appended in increasing order, and one at or below the
 *   last applied is refused as already applied.
 */
export type AppendOnce =
  | { request: string; fingerprint: string; status: number; body: string }
  | { source: string; window: number };

/** An appendOnce that found it had already been applied: the recorded answer (null for a window). */
export interface AlreadyAppended {
  appended: false;
  recorded: { fingerprint: string; status: number; body: string } | null;
}

/** Markers in an AppendOnce request's body, replaced with the entry's position (never in JSON text otherwise). */
export const APPEND_MARKS = { epoch: '\u0001e\u0001', seq: '\u0001s\u0001', tag: '\u0001t\u0001' } as const;

/** An answer body with APPEND_MARKS filled in: what the store records and what the first answer says. */
export function fillAppendMarks(body: string, epoch: string, seq: number, tag: string): string {
  return body.replaceAll(APPEND_MARKS.epoch, epoch).replaceAll(APPEND_MARKS.seq, String(seq)).replaceAll(APPEND_MARKS.tag, tag);
}

/** What a read from a cursor returns: the record as of this read and the entries after it. */
export interface ReadResult {
  record: EventRecord;
  /** Oldest seq still held (head + 1 when the log is empty). */
  oldest: number;
  /** Entries after the requested seq, oldest first, at most the limit. */
  entries: LogEntry[];
}

/** The outcome of starting an idempotent request. */
export type IdempotencyBegin =
  | { state: 'new' }
  | { state: 'pending' }
  | { state: 'done'; fingerprint: string; status: number; body: string };

/** The outcome of one hit on a rate-limit counter. */
export interface RateResult {
  allowed: boolean;
  /** When refused: ms until the window resets. */
  retryAfterMs: number;
}

/** Called when an event's log or record changed (append, delete); the hub re-reads. */
export type ChangeListener = (eventId: string) => void;

/** Bounds every store states at construction. */
export interface StoreOptions {
  /** Deltas kept per event. @default 1024 */
  ringSize: number;
  /** Reaction totals kept by name in a snapshot; the rest are summed in `other`. @default 32 */
  reactionTotalsMax?: number;
  /** Chat messages kept in a snapshot. @default 50 */
  chatHistory: number;
  /** Events kept at once; creating more is refused with 503 unavailable. @default 10_000 */
  maxEvents: number;
  /** How long an Idempotency-Key is remembered. @default 86_400_000 */
  idempotencyTtlMs: number;
  /** How long a viewer's (chat) Idempotency-Key is remembered. @default 600_000 */
  idempotencyViewerTtlMs?: number;
  /** Records one identity keeps per kind; recording one more forgets its oldest. @default 1000 */
  idempotencyMaxPerIdentity?: number;
  /** How many Idempotency-Keys are remembered at most, per kind (publisher, viewer), on either store. @default 100_000 */
  idempotencyMax: number;
  /** Events whose engagement stats are kept at most, least recently recorded dropped first (memory store). @default 1000 */
  statsMaxEvents?: number;
}

/** How long a pending Idempotency-Key reservation lives if its request never completes (both stores). */
export const IDEMPOTENCY_PENDING_MS = 60_000;

/**
 * The store's slices, by consumer: the log of events (the hub, the poll engine, the fans),
 * presence (the poll engine, the hub), idempotency (lib/idempotency.ts), rate limits (the fans)
 * and engagement stats (lib/engagement.ts). Each consumer takes the slices it uses; a Store is
 * all of them with a lifecycle, which both implementations are.
 */

/** Events, their logs and snapshots, and the change notifications. */
export interface EventLog {
  /** Creates the event with an empty log and a fresh epoch; null when it already exists. */
  createEvent(id: string, meta: EventMeta, state: EventState, now: number): Promise<EventRecord | null>;
  /** The event's record, or null. */
  getEvent(id: string): Promise<EventRecord | null>;
  /** Every event's record, in creation order. */
  listEvents(): Promise<EventRecord[]>;
  /** Deletes the event, its log, snapshot and presence; false when there was none. */
  deleteEvent(id: string): Promise<boolean>;

  /**
   * Appends a delta: assigns the next seq, stamps `ts`, folds it into the snapshot, and (for a
   * status delta) moves the record's state and meta, all atomically. 404 when the event is gone.
   */
  append(id: string, draft: DeltaDraft, options: AppendOptions): Promise<AppendResult>;
  /**
   * append() at most once for `once` (see AppendOnce): checks the record, appends, records,
   * all atomically. A request key is reserved (beginIdempotent) by the caller first; its
   * reservation is the caller's own and lets the append through. The record is checked before
   * the open and version checks, so a retry of an applied append gets its answer even after
   * the event ended. A refusal records nothing.
   */
  appendOnce(id: string, draft: DeltaDraft, options: AppendOptions, once: AppendOnce): Promise<(AppendResult & { appended: true }) | AlreadyAppended>;
  /** Entries after `afterSeq` (at most `limit`) with the record as of the read; null when no event. */
  read(id: string, afterSeq: number, limit: number): Promise<ReadResult | null>;
  /** The snapshot at the record's head, read consistently with it; null when no event. */
  snapshot(id: string): Promise<{ record: EventRecord; snapshot: Snapshot } | null>;

  /** Subscribes to changes of every event; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void;
}

/** Who is watching: presence from poll recency. */
export interface PresenceStore {
  /** Marks a viewer present until `expiresAt` (later touches may shorten or extend it). */
  touchPresence(eventId: string, viewerId: string, expiresAt: number): Promise<void>;
  /** touchPresence for many viewers of one event at once (a wake answers thousands together). */
  touchPresenceMany(eventId: string, viewerIds: readonly string[], expiresAt: number): Promise<void>;
  /** Removes a viewer at once. */
  removePresence(eventId: string, viewerId: string): Promise<void>;
  /** How many viewers are present at `now`. */
  countPresence(eventId: string, now: number): Promise<number>;
  /** Present viewer ids in a stable order, a page at a time; `next` is null on the last page. */
  listPresence(
    eventId: string,
    now: number,
    page: string | null,
    limit: number,
  ): Promise<{ members: string[]; next: string | null }>;
}

/** Idempotency-Key reservations and answers. */
export interface IdempotencyStore {
  /**
   * Starts an idempotent request under `key`: new (now reserved), pending (another request holds
   * the reservation), or done. A reservation that is never completed expires within a minute.
   */
  beginIdempotent(key: string, now: number): Promise<IdempotencyBegin>;
  /** Records the answer of a request begun with beginIdempotent. */
  completeIdempotent(key: string, fingerprint: string, status: number, body: string, now: number): Promise<void>;
  /** Forgets a reservation whose request failed, so a retry may run. */
  releaseIdempotent(key: string): Promise<void>;
}

/** Fixed-window counters shared by every server on the store. */
export interface RateLimiter {
  /** Counts one hit on a fixed-window counter shared by every server on this store. */
  rateHit(key: string, limit: number, windowMs: number, now: number): Promise<RateResult>;
}

/** Engagement per event-minute. */
export interface StatsStore {
  /**
   * Merges one event-minute of engagement into the stats: peakViewers by maximum, the counts by
   * adding, emoji per key by adding (at most STATS_EMOJI_PER_MINUTE distinct per minute; new
   * keys past that are dropped). Keeps at least the STATS_MINUTES minutes up to the newest one
   * recorded and may drop older ones (a minute that old when recorded is ignored); an event
   * that does not exist records nothing and does not throw. deleteEvent drops the event's stats.
   */
  recordStats(eventId: string, minute: number, counters: StatsCounters): Promise<void>;
  /**
   * The recorded minutes of an event from `sinceMinute` on, oldest first, only minutes that
   * have something recorded; [] for an unknown event.
   */
  readStats(eventId: string, sinceMinute: number): Promise<StatsMinute[]>;
}

/** Every slice, with what a process needs of its store's lifecycle. */
export interface Store extends EventLog, PresenceStore, IdempotencyStore, RateLimiter, StatsStore {
  /** Which implementation this is, for logs and /readyz. */
  readonly kind: 'memory' | 'redis';

  /** Resolves when the store answers; rejects (503 unavailable) when it does not. */
  ping(): Promise<void>;
  /** Releases every connection and timer; idempotent. */
  close(): Promise<void>;
}

export type { IdempotencyKind } from '../model/records.js';

/**
 * The owner of an idempotency key as the stores bound records: keys are
 * `<kind> <identity> <rest>` (lib/idempotency.ts makes them; none of the three holds a space).
 * Each kind has its own records (a flood of one never evicts the other's), at most
 * idempotencyMax of them, and each identity at most idempotencyMaxPerIdentity of a kind.
 */
export function idempotencyOwner(key: string): { kind: IdempotencyKind; identity: string } {
  const first = key.indexOf(' ');
  const second = key.indexOf(' ', first + 1);
  const kind = key.slice(0, first) === 'viewer' ? 'viewer' : 'publisher';
  return { kind, identity: key.slice(first + 1, second < 0 ? key.length : second) };
}

/** How long a record of this kind is kept, under these options. */
export function idempotencyTtl(kind: IdempotencyKind, options: StoreOptions): number {
  return kind === 'viewer' ? (options.idempotencyViewerTtlMs ?? 600_000) : options.idempotencyTtlMs;
}

/** The refusal of a write whose Idempotency-Key another request still holds (both stores, and the hub). */
export function pendingConflict(): HubError {
  return new HubError('idempotency_conflict', 'a request with this Idempotency-Key is still in progress', { field: 'Idempotency-Key' });
}

/** How long a reaction window's once-record lives: far longer than any retry of it (both stores' windows). */
export const WINDOW_RECORD_MS = 3_600_000;
