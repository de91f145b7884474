import { performance } from 'node:perf_hooks';
import { isHubError } from '../model/errors.js';
import type { StoreObserver, StoreOp } from '../observer.js';
import type { DeltaDraft, EventMeta, EventState } from '../protocol.js';
import type { AlreadyAppended, AppendOnce, AppendOptions, AppendResult, ChangeListener, IdempotencyBegin, RateResult, ReadResult, Store } from './types.js';
import type { EventRecord, StatsCounters, StatsMinute } from '../model/records.js';

/**
 * A Store decorator that times every call and counts failures and appended kinds, so the
 * memory and Redis stores are measured the same way without either knowing of metrics.
 * A domain refusal (404, 409, …) is an answer, not a failure: only non-HubErrors and 5xx count.
 */
export class InstrumentedStore implements Store {
  readonly kind: Store['kind'];
  private readonly inner: Store;
  private readonly observer: StoreObserver;

  constructor(inner: Store, observer: StoreObserver) {
    this.inner = inner;
    this.kind = inner.kind;
    this.observer = observer;
  }

  createEvent(id: string, meta: EventMeta, state: EventState, now: number): Promise<EventRecord | null> {
    return this.time('createEvent', () => this.inner.createEvent(id, meta, state, now));
  }

  getEvent(id: string): Promise<EventRecord | null> {
    return this.time('getEvent', () => this.inner.getEvent(id));
  }

  listEvents(): Promise<EventRecord[]> {
    return this.time('listEvents', () => this.inner.listEvents());
  }

  deleteEvent(id: string): Promise<boolean> {
    return this.time('deleteEvent', () => this.inner.deleteEvent(id));
  }

  async append(id: string, draft: DeltaDraft, options: AppendOptions): Promise<AppendResult> {
    const result = await this.time('append', () => this.inner.append(id, draft, options));
    this.observer.appended(draft.kind);
    return result;
  }
  async appendOnce(id: string, draft: DeltaDraft, options: AppendOptions, once: AppendOnce): Promise<(AppendResult & { appended: true }) | AlreadyAppended> {
    const result = await this.time('append', () => this.inner.appendOnce(id, draft, options, once));
    if (result.appended) this.observer.appended(draft.kind);
    return result;
  }


  read(id: string, afterSeq: number, limit: number): Promise<ReadResult | null> {
    return this.time('read', () => this.inner.read(id, afterSeq, limit));
  }

  snapshot(id: string): ReturnType<Store['snapshot']> {
    return this.time('snapshot', () => this.inner.snapshot(id));
  }

  touchPresence(eventId: string, viewerId: string, expiresAt: number): Promise<void> {
    return this.time('touchPresence', () => this.inner.touchPresence(eventId, viewerId, expiresAt));
  }

  touchPresenceMany(eventId: string, viewerIds: readonly string[], expiresAt: number): Promise<void> {
    return this.time('touchPresenceMany', () => this.inner.touchPresenceMany(eventId, viewerIds, expiresAt));
  }

  removePresence(eventId: string, viewerId: string): Promise<void> {
    return this.time('removePresence', () => this.inner.removePresence(eventId, viewerId));
  }

  countPresence(eventId: string, now: number): Promise<number> {
    return this.time('countPresence', () => this.inner.countPresence(eventId, now));
  }

  listPresence(eventId: string, now: number, page: string | null, limit: number): ReturnType<Store['listPresence']> {
    return this.time('listPresence', () => this.inner.listPresence(eventId, now, page, limit));
  }

  beginIdempotent(key: string, now: number): Promise<IdempotencyBegin> {
    return this.time('beginIdempotent', () => this.inner.beginIdempotent(key, now));
  }


  completeIdempotent(key: string, fingerprint: string, status: number, body: string, now: number): Promise<void> {
    return this.time('completeIdempotent', () => this.inner.completeIdempotent(key, fingerprint, status, body, now));
  }

  releaseIdempotent(key: string): Promise<void> {
    return this.time('releaseIdempotent', () => this.inner.releaseIdempotent(key));
  }

  rateHit(key: string, limit: number, windowMs: number, now: number): Promise<RateResult> {
    return this.time('rateHit', () => this.inner.rateHit(key, limit, windowMs, now));
  }

  recordStats(eventId: string, minute: number, counters: StatsCounters): Promise<void> {
    return this.time('recordStats', () => this.inner.recordStats(eventId, minute, counters));
  }

  readStats(eventId: string, sinceMinute: number): Promise<StatsMinute[]> {
    return this.time('readStats', () => this.inner.readStats(eventId, sinceMinute));
  }

  onChange(listener: ChangeListener): () => void {
    return this.inner.onChange(listener);
  }

  ping(): Promise<void> {
    return this.time('ping', () => this.inner.ping());
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Runs one call and reports its duration (the memory store does its work synchronously, so the clock starts first). */
  private async time<T>(op: StoreOp, call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      const value = await call();
      this.observer.operation(op, (performance.now() - start) / 1000, false);
      return value;
    } catch (err) {
      const failed = !isHubError(err) || err.status >= 500;
      this.observer.operation(op, (performance.now() - start) / 1000, failed);
      throw err;
    }
  }
}
