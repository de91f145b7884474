import { LRUCache } from 'lru-cache';
import { randomBytes } from 'node:crypto';
import { EMPTY_TAG, newEpoch } from '../../model/cursor.js';
import { HubError } from '../../model/errors.js';
import type { Delta, DeltaDraft, EventMeta, EventState, Snapshot } from '../../protocol.js';
import { RingBuffer } from './ring-buffer.js';
import { IdempotencyRecords } from './idempotency.js';
import { applyDelta, emptySnapshot } from '../../model/snapshot.js';
import { StatsRing } from '../../model/stats-ring.js';
import type { AlreadyAppended, AppendOnce, AppendOptions, AppendResult, ChangeListener, IdempotencyBegin, RateResult, ReadResult, Store, StoreOptions } from '../types.js';
import { fillAppendMarks } from '../types.js';
import { draftTail, entryJson } from '../../model/entry.js';
import type { EventRecord, LogEntry, StatsCounters, StatsMinute } from '../../model/records.js';
import { IDEMPOTENCY_PENDING_MS } from '../types.js';

interface MemoryEvent {
  record: EventRecord;
  log: RingBuffer<LogEntry>;
  snapshot: Snapshot;
  /** viewer id → presence expiry (ms). */
  presence: Map<string, number>;
  /** When expired viewers were last dropped: counting stays O(1) between sweeps. */
  presenceSweptAt: number;
  /** Per reaction-window source, the last window applied (AppendOnce). */
  windows: Map<string, number>;
}

/** Longest a viewer may be counted past its expiry between sweeps. */
const PRESENCE_SWEEP_MS = 500;


/** Copies a record so callers never hold a live reference into the store. */
function copyRecord(r: EventRecord): EventRecord {
  return { ...r };
}

/** The in-memory store: one process's truth; ring buffers and snapshots per event. */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly options: StoreOptions;
  private readonly events = new Map<string, MemoryEvent>();
  private readonly listeners = new Set<ChangeListener>();
  private idempotency: IdempotencyRecords;
  private readonly rates: LRUCache<string, { windowStart: number; count: number }>;
  private readonly stats: LRUCache<string, StatsRing>;
  private closed = false;

  constructor(options: StoreOptions) {
    this.options = options;
    this.idempotency = new IdempotencyRecords(options);
    // Counters outlive no window by much; the bound keeps a flood of identities from growing it.
    this.rates = new LRUCache({ max: 200_000 });
    this.stats = new LRUCache({ max: options.statsMaxEvents ?? 1000 });
  }

  async createEvent(id: string, meta: EventMeta, state: EventState, now: number): Promise<EventRecord | null> {
    this.open();
    if (this.events.has(id)) return null;
    if (this.events.size >= this.options.maxEvents) {
      throw new HubError('unavailable', `this server keeps at most ${this.options.maxEvents} events`, {
        retryAfterS: 60,
      });
    }
    const record: EventRecord = { id, epoch: newEpoch(now), meta, state, head: 0, tag: EMPTY_TAG, lastVersion: null, createdAt: now };
    this.events.set(id, {
      record,
      log: new RingBuffer<LogEntry>(this.options.ringSize),
      snapshot: emptySnapshot(meta, state),
      presence: new Map(),
      presenceSweptAt: now,
      windows: new Map(),
    });
    this.emit(id);
    return copyRecord(record);
  }

  async getEvent(id: string): Promise<EventRecord | null> {
    const ev = this.events.get(id);
    return ev ? copyRecord(ev.record) : null;
  }

  async listEvents(): Promise<EventRecord[]> {
    return [...this.events.values()].map((ev) => copyRecord(ev.record));
  }

  async deleteEvent(id: string): Promise<boolean> {
    this.open();
    const existed = this.events.delete(id);
    this.stats.delete(id);
    if (existed) this.emit(id);
    return existed;
  }

  async append(id: string, draft: DeltaDraft, options: AppendOptions): Promise<AppendResult> {
    this.open();
    const ev = this.mustGet(id);
    const { record } = ev;
    if ((options.requireOpen ?? true) && record.state === 'ended') {
      throw new HubError('event_ended', `event ${id} has ended`);
    }
    if (options.version !== undefined && record.lastVersion !== null && options.version <= record.lastVersion) {
      throw new HubError('stale_version', `version ${options.version} is not above ${record.lastVersion}`, {
        field: 'version',
      });
    }
    const delta = { seq: record.head + 1, ...draft, ts: options.now } as Delta;
    const entry: LogEntry = {
      seq: delta.seq,
      tag: randomBytes(4).toString('hex'),
      prev: record.tag,
      kind: delta.kind,
      type: 'type' in delta ? delta.type : undefined,
      json: entryJson(delta.seq, delta.ts, draftTail(draft)),
      ts: delta.ts,
    };
    ev.log.push(entry);
    record.head = delta.seq;
    record.tag = entry.tag;
    if (options.version !== undefined) record.lastVersion = options.version;
    if (delta.kind === 'status') {
      record.state = delta.data.state;
      if (delta.data.meta) record.meta = delta.data.meta;
    }
    applyDelta(ev.snapshot, delta, this.options.chatHistory, this.options.reactionTotalsMax);
    this.emit(id);
    return { entry, epoch: record.epoch };
  }

  async appendOnce(id: string, draft: DeltaDraft, options: AppendOptions, once: AppendOnce): Promise<(AppendResult & { appended: true }) | AlreadyAppended> {
    this.open();
    const ev = this.mustGet(id);
    if ('request' in once) {
      const found = this.idempotency.get(once.request);
      // Pending is this request's own reservation (runIdempotent reserves first): proceed.
      if (found && found.state === 'done') return { appended: false, recorded: { fingerprint: found.fingerprint, status: found.status, body: found.body } };
    } else if ((ev.windows.get(once.source) ?? 0) >= once.window) {
      return { appended: false, recorded: null };
    }
    const result = await this.append(id, draft, options);
    if ('request' in once) {
      const body = fillAppendMarks(once.body, result.epoch, result.entry.seq, result.entry.tag);
      this.idempotency.complete(once.request, { state: 'done', fingerprint: once.fingerprint, status: once.status, body });
    } else {
      ev.windows.set(once.source, once.window);
    }
    return { ...result, appended: true };
  }

  async read(id: string, afterSeq: number, limit: number): Promise<ReadResult | null> {
    const ev = this.events.get(id);
    if (!ev) return null;
    return { record: copyRecord(ev.record), oldest: ev.log.oldest, entries: ev.log.after(afterSeq, limit) };
  }

  async snapshot(id: string): Promise<{ record: EventRecord; snapshot: Snapshot } | null> {
    const ev = this.events.get(id);
    if (!ev) return null;
    // structuredClone: the live snapshot keeps folding after this returns.
    return { record: copyRecord(ev.record), snapshot: structuredClone(ev.snapshot) };
  }

  async touchPresence(eventId: string, viewerId: string, expiresAt: number): Promise<void> {
    this.events.get(eventId)?.presence.set(viewerId, expiresAt);
  }

  async touchPresenceMany(eventId: string, viewerIds: readonly string[], expiresAt: number): Promise<void> {
    const presence = this.events.get(eventId)?.presence;
    if (presence) for (const id of viewerIds) presence.set(id, expiresAt);
  }

  async removePresence(eventId: string, viewerId: string): Promise<void> {
    this.events.get(eventId)?.presence.delete(viewerId);
  }

  async countPresence(eventId: string, now: number): Promise<number> {
    const ev = this.events.get(eventId);
    if (!ev) return 0;
    this.expirePresence(ev, now);
    return ev.presence.size;
  }

  async listPresence(
    eventId: string,
    now: number,
    page: string | null,
    limit: number,
  ): Promise<{ members: string[]; next: string | null }> {
    const ev = this.events.get(eventId);
    if (!ev) return { members: [], next: null };
    this.expirePresence(ev, now, true);
    const all = [...ev.presence.keys()].sort();
    const start = page === null ? 0 : all.findIndex((m) => m > page);
    const members = start < 0 ? [] : all.slice(start, start + limit);
    const last = members[members.length - 1];
    const next = last !== undefined && start + limit < all.length ? last : null;
    return { members, next };
  }

  async beginIdempotent(key: string): Promise<IdempotencyBegin> {
    this.open();
    const found = this.idempotency.get(key);
    if (found) return found.state === 'pending' ? { state: 'pending' } : { ...found };
    this.idempotency.reserve(key);
    return { state: 'new' };
  }


  async completeIdempotent(key: string, fingerprint: string, status: number, body: string): Promise<void> {
    this.open();
    this.idempotency.complete(key, { state: 'done', fingerprint, status, body });
  }

  async releaseIdempotent(key: string): Promise<void> {
    this.idempotency.delete(key);
  }

  async rateHit(key: string, limit: number, windowMs: number, now: number): Promise<RateResult> {
    this.open();
    const windowStart = now - (now % windowMs);
    let counter = this.rates.get(key);
    if (!counter || counter.windowStart !== windowStart) {
      counter = { windowStart, count: 0 };
      this.rates.set(key, counter, { ttl: windowMs });
    }
    if (counter.count >= limit) return { allowed: false, retryAfterMs: windowStart + windowMs - now };
    counter.count += 1;
    return { allowed: true, retryAfterMs: 0 };
  }

  async recordStats(eventId: string, minute: number, counters: StatsCounters): Promise<void> {
    this.open();
    if (!this.events.has(eventId)) return;
    let ring = this.stats.get(eventId);
    if (!ring) this.stats.set(eventId, (ring = new StatsRing()));
    ring.merge(minute, counters);
  }

  async readStats(eventId: string, sinceMinute: number): Promise<StatsMinute[]> {
    return this.events.has(eventId) ? (this.stats.peek(eventId)?.read(sinceMinute) ?? []) : [];
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async ping(): Promise<void> {
    this.open();
  }

  /** Throws 503 once closed: a write must not report success into a store that was emptied, as Redis refuses it too. */
  private open(): void {
    if (this.closed) throw new HubError('unavailable', 'the store is closed', { retryAfterS: 1 });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.events.clear();
    this.idempotency = new IdempotencyRecords(this.options);
    this.rates.clear();
    this.stats.clear();
  }

  private mustGet(id: string): MemoryEvent {
    const ev = this.events.get(id);
    if (!ev) throw new HubError('not_found', `no event ${id}`);
    return ev;
  }

  private expirePresence(ev: MemoryEvent, now: number, force = false): void {
    // Sweeping every count would make a wake of 10,000 waiters O(n²); a viewer may therefore
    // count up to PRESENCE_SWEEP_MS past its expiry.
    if (!force && now - ev.presenceSweptAt < PRESENCE_SWEEP_MS) return;
    ev.presenceSweptAt = now;
    for (const [viewer, expiresAt] of ev.presence) if (expiresAt <= now) ev.presence.delete(viewer);
  }

  private emit(id: string): void {
    for (const listener of this.listeners) listener(id);
  }
}
