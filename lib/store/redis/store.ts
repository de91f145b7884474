import { Redis, type ChainableCommander } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { EMPTY_TAG, newEpoch } from '../../model/cursor.js';
import { HubError } from '../../model/errors.js';
import type { Delta, DeltaDraft, EventMeta, EventState, Snapshot } from '../../protocol.js';
import { emptySnapshot } from '../../model/snapshot.js';
import { decodeEntry, decodeRecord, encodeDraft, RedisKeys, type RawEntry, type RawRecord } from './codec.js';
import { exec, RedisLink } from './link.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { PresenceBuffer, type TouchBatch } from './presence.js';
import * as lua from './scripts.js';
import { SnapshotCache, type SnapshotReply } from './snapshots.js';
import { decodeStats, statsArgs, STATS_RECORD } from './stats.js';
import type { AlreadyAppended, AppendOnce, AppendOptions, AppendResult, ChangeListener, IdempotencyBegin, RateResult, ReadResult, Store, StoreOptions } from '../types.js';
import type { EventRecord, StatsCounters, StatsMinute } from '../../model/records.js';
import { IDEMPOTENCY_PENDING_MS, idempotencyOwner, idempotencyTtl, WINDOW_RECORD_MS } from '../types.js';

/** Clock differences with Redis below this are taken as none (see syncClock). */
const CLOCK_AGREES_MS = 1000;

/** Options of the Redis store: the common bounds plus where Redis is. */
export interface RedisStoreOptions extends StoreOptions {
  /** redis://[user:pass@]host:port[/db] or rediss:// */
  url: string;
  /** Prefix of every key and of the pub/sub channel; servers sharing it share events. @default 'hl:' */
  keyPrefix?: string;
  /** How often buffered presence touches are written. @default 250 */
  presenceFlushMs?: number;
  /** Longest a command, or a wait for the connection, may take before 503 unavailable. @default 2000 */
  commandTimeoutMs?: number;
  /** The clock of the times callers pass (now, expiresAt): the hub's. @default systemClock */
  clock?: Clock;
}

/**
 * The shared store: several holdline servers on one Redis serve the same events. Logs are
 * streams with ids `<seq>-0`, records hashes, presence sorted sets, wakes pub/sub; every write
 * that must be atomic is one Lua script (lib/store/redis/scripts.ts). docs/SCALING.md has the
 * data model and what happens on each failure.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private readonly options: StoreOptions;
  private readonly keys: RedisKeys;
  private readonly link: RedisLink;
  private readonly snapshots: SnapshotCache;
  private readonly presence = new PresenceBuffer();
  private readonly presenceTimer: NodeJS.Timeout;
  /** Events read lately: after a resubscribe their waiters are woken, since wakes may be lost. */
  private readonly watched: LRUCache<string, true>;
  private closing: Promise<void> | null = null;
  private readonly clock: Clock;
  /**
   * Redis's clock (TIME) less the caller's, measured at every connection: presence expiries and
   * rate-limit windows are kept on Redis's clock, so servers whose clocks disagree (one a minute
   * ahead) neither prune each other's viewers nor split a window in two.
   */
  private offset = 0;
  private synced: Promise<void> = Promise.resolve();

  constructor(options: RedisStoreOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.keys = new RedisKeys(options.keyPrefix ?? 'hl:');
    this.link = new RedisLink(options.url, this.keys.channel, options.commandTimeoutMs ?? 2000, () => this.wakeAll());
    for (const [name, source] of Object.entries(lua.SCRIPTS)) this.link.define(name, source);
    this.link.define('hlStatsRecord', STATS_RECORD);
    this.snapshots = new SnapshotCache(
      {
        load: (id, epoch, seq, tag) => this.loadSnapshot(id, epoch, seq, tag),
        store: async (id, epoch, seq, tag, json) => {
          await this.link.script('hlStoreSnapshot', [this.keys.record(id), this.keys.log(id)], [epoch, seq, tag, json, options.ringSize]);
        },
      },
      options.chatHistory,
      Math.min(options.maxEvents, 1024),
      options.reactionTotalsMax,
    );
    this.watched = new LRUCache({ max: Math.max(1, options.maxEvents) });
    this.link.onReady((role, reconnect) => {
      if (reconnect) this.snapshots.clear();
      if (role === 'poll') this.synced = this.syncClock();
    });
    this.presenceTimer = setInterval(() => void this.flushPresence().catch(() => {}), options.presenceFlushMs ?? 250);
    this.presenceTimer.unref();
  }

  async createEvent(id: string, meta: EventMeta, state: EventState, now: number): Promise<EventRecord | null> {
    const epoch = newEpoch(now);
    const k = this.keys;
    const keys = [k.record(id), k.events, k.order, k.log(id), k.presence(id), k.presenceLex(id)];
    const snap = JSON.stringify(emptySnapshot(meta, state));
    const args = [id, epoch, JSON.stringify(meta), state, now, snap, this.options.maxEvents, k.channel];
    const created = await this.link.run(() => this.link.script('hlCreate', keys, args, 'publish'), 'publish');
    if (created === 0) return null;
    if (created === -1) {
      throw new HubError('unavailable', `this store keeps at most ${this.options.maxEvents} events`, { retryAfterS: 60 });
    }
    return { id, epoch, meta, state, head: 0, tag: EMPTY_TAG, lastVersion: null, createdAt: now };
  }

  async getEvent(id: string): Promise<EventRecord | null> {
    const fields = await this.link.run(() => this.link.client.hmget(this.keys.record(id), ...lua.RECORD_FIELDS));
    return decodeRecord(id, fields);
  }

  async listEvents(): Promise<EventRecord[]> {
    return this.link.run(async () => {
      const ids = await this.link.client.zrange(this.keys.events, '0', '-1');
      const pipe = this.link.client.pipeline();
      for (const id of ids) pipe.hmget(this.keys.record(id), ...lua.RECORD_FIELDS);
      const replies = ids.length > 0 ? await exec(pipe) : [];
      // An event deleted between the two calls is simply left out.
      return ids.flatMap((id, i) => decodeRecord(id, replies[i] as RawRecord) ?? []);
    });
  }

  async deleteEvent(id: string): Promise<boolean> {
    const k = this.keys;
    const keys = [k.record(id), k.log(id), k.presence(id), k.presenceLex(id), k.events, k.stats(id)];
    const deleted = await this.link.run(() => this.link.script('hlDelete', keys, [id, k.channel], 'publish'), 'publish');
    this.presence.forget(id);
    this.snapshots.forget(id);
    return deleted === 1;
  }

  async append(id: string, draft: DeltaDraft, options: AppendOptions): Promise<AppendResult> {
    const result = await this.appendScript(id, draft, options, null);
    if (!('entry' in result)) throw new Error('an append without once came back as already applied');
    return result;
  }

  async appendOnce(id: string, draft: DeltaDraft, options: AppendOptions, once: AppendOnce): Promise<(AppendResult & { appended: true }) | AlreadyAppended> {
    const result = await this.appendScript(id, draft, options, once);
    return 'entry' in result ? { ...result, appended: true } : result;
  }

  private async appendScript(id: string, draft: DeltaDraft, options: AppendOptions, once: AppendOnce | null): Promise<AppendResult | AlreadyAppended> {
    if (!Number.isFinite(options.now)) throw new RangeError('append needs a finite now');
    const { tail, kind, type } = encodeDraft(draft);
    const status = draft.kind === 'status' ? draft.data : undefined;
    const args: Array<string | number> = [
      tail,
      String(options.now),
      (options.requireOpen ?? true) ? '1' : '0',
      options.version === undefined ? '' : String(options.version),
      status ? status.state : '',
      status?.meta ? JSON.stringify(status.meta) : '',
      this.options.ringSize,
      kind,
      type,
      this.keys.channel,
      id,
    ];
    const keys = [this.keys.record(id), this.keys.log(id)];
    if (once && 'request' in once) {
      keys.push(this.keys.idempotency(once.request));
      args.push('r', once.fingerprint, once.status, once.body, idempotencyTtl(idempotencyOwner(once.request).kind, this.options));
    } else if (once) {
      keys.push(this.keys.window(id, once.source));
      args.push('w', once.window, 0, '', WINDOW_RECORD_MS);
    }
    // On the publishers' connection: never behind the polls' reads and presence (RedisLink).
    const reply = (await this.link.run(() => this.link.script('hlAppend', keys, args, 'publish'), 'publish')) as string[];
    const [code, seq, epoch, json, tag, prev] = reply;
    if (code === 'not_found') throw new HubError('not_found', `no event ${id}`);
    if (code === 'event_ended') throw new HubError('event_ended', `event ${id} has ended`);
    if (code === 'stale_version') {
      throw new HubError('stale_version', `version ${options.version} is not above ${seq}`, { field: 'version' });
    }
    if (code === 'already') return { appended: false, recorded: null };
    if (code === 'replay') {
      const done = JSON.parse(seq!) as { f: string; s: number; b: string };
      return { appended: false, recorded: { fingerprint: done.f, status: done.s, body: done.b } };
    }
    const entry = { seq: Number(seq), kind, type: type === '' ? undefined : type, json: json!, ts: options.now, tag: tag!, prev: prev! };
    // Acknowledged once the script ran; the fold write-back only keeps the log short, so the
    // append does not wait for it (it never rejects; close() settles what is in flight).
    void this.snapshots.advance(id, epoch!, JSON.parse(entry.json) as Delta, entry);
    return { entry, epoch: epoch! };
  }

  async read(id: string, afterSeq: number, limit: number): Promise<ReadResult | null> {
    const multi = this.link.client
      .multi()
      .hmget(this.keys.record(id), ...lua.RECORD_FIELDS)
      .xrange(this.keys.log(id), '-', '+', 'COUNT', 1)
      .xrange(this.keys.log(id), `${afterSeq + 1}-0`, '+', 'COUNT', Math.max(1, limit));
    const [fields, first, after] = await this.link.run(() => exec(multi));
    const record = decodeRecord(id, fields as RawRecord);
    if (!record) return null;
    // Only events that exist are re-announced after a resubscribe: a poll of any id must not grow it.
    this.watched.set(id, true);
    const oldest = (first as RawEntry[])[0];
    const entries = limit > 0 ? (after as RawEntry[]).map(decodeEntry) : [];
    return { record, oldest: oldest ? decodeEntry(oldest).seq : record.head + 1, entries };
  }

  async snapshot(id: string): Promise<{ record: EventRecord; snapshot: Snapshot } | null> {
    const read = await this.link.run(() => this.snapshots.read(id));
    if (read) this.watched.set(id, true);
    return read;
  }

  async touchPresence(eventId: string, viewerId: string, expiresAt: number): Promise<void> {
    // Buffered, but refused while Redis is away so the caller learns at once.
    await this.link.run(async () => this.presence.touch(eventId, viewerId, expiresAt + this.offset));
  }

  async touchPresenceMany(eventId: string, viewerIds: readonly string[], expiresAt: number): Promise<void> {
    await this.link.run(async () => {
      const at = expiresAt + this.offset;
      for (const id of viewerIds) this.presence.touch(eventId, id, at);
    });
  }

  async removePresence(eventId: string, viewerId: string): Promise<void> {
    this.presence.remove(eventId, viewerId);
    const keys = [this.keys.presence(eventId), this.keys.presenceLex(eventId)];
    await this.link.run(() => this.link.script('hlPresenceRemove', keys, [viewerId]));
  }

  async countPresence(eventId: string, now: number): Promise<number> {
    const keys = [this.keys.presence(eventId), this.keys.presenceLex(eventId)];
    await this.synced;
    const replies = await this.withPending(eventId, (pipe) => this.link.queue(pipe, 'hlPresenceCount', keys, [now + this.offset]));
    return replies[replies.length - 1] as number;
  }

  async listPresence(
    eventId: string,
    now: number,
    page: string | null,
    limit: number,
  ): Promise<{ members: string[]; next: string | null }> {
    const keys = [this.keys.presence(eventId), this.keys.presenceLex(eventId)];
    await this.synced;
    const args = [now + this.offset, page ?? '', Math.max(1, limit)];
    const replies = await this.withPending(eventId, (pipe) => this.link.queue(pipe, 'hlPresenceList', keys, args));
    const [members, next] = replies[replies.length - 1] as [string[], string | null];
    return { members, next: next ?? null };
  }

  async beginIdempotent(key: string, now: number): Promise<IdempotencyBegin> {
    const k = this.keys.idempotency(key);
    const { kind, identity } = idempotencyOwner(key);
    const ownerPrefix = this.keys.idempotencyOwnerPrefix();
    const keys = [k, this.keys.idempotencyKindIndex(kind), `${ownerPrefix}${kind} ${identity}`];
    const args = [
      IDEMPOTENCY_PENDING_MS, now, idempotencyTtl(kind, this.options), this.options.idempotencyMax,
      this.options.idempotencyMaxPerIdentity ?? 1000, ownerPrefix, this.keys.idempotency(''),
    ];
    const found = (await this.link.run(() => this.link.script('hlIdemBegin', keys, args, 'publish'), 'publish')) as
      | string
      | null;
    if (found === null) return { state: 'new' };
    if (found === 'p') return { state: 'pending' };
    const done = JSON.parse(found) as { f: string; s: number; b: string };
    return { state: 'done', fingerprint: done.f, status: done.s, body: done.b };
  }


  async completeIdempotent(key: string, fingerprint: string, status: number, body: string): Promise<void> {
    const value = JSON.stringify({ f: fingerprint, s: status, b: body });
    const ttl = idempotencyTtl(idempotencyOwner(key).kind, this.options);
    await this.link.run(() => this.link.writer.set(this.keys.idempotency(key), value, 'PX', ttl), 'publish');
  }

  async releaseIdempotent(key: string): Promise<void> {
    await this.link.run(() => this.link.writer.del(this.keys.idempotency(key)), 'publish');
  }

  async rateHit(key: string, limit: number, windowMs: number, now: number): Promise<RateResult> {
    // Windows are aligned on Redis's clock, the same for every server; the key expires a little after.
    await this.synced;
    const at = now + this.offset;
    const windowStart = at - (at % windowMs);
    const k = this.keys.rate(key, windowStart);
    const hits = (await this.link.run(() => this.link.script('hlRateHit', [k], [windowMs + 1000]))) as number;
    if (hits > limit) return { allowed: false, retryAfterMs: windowStart + windowMs - at };
    return { allowed: true, retryAfterMs: 0 };
  }

  async recordStats(eventId: string, minute: number, counters: StatsCounters): Promise<void> {
    const keys = [this.keys.record(eventId), this.keys.stats(eventId)];
    await this.link.run(() => this.link.script('hlStatsRecord', keys, statsArgs(minute, counters)));
  }

  async readStats(eventId: string, sinceMinute: number): Promise<StatsMinute[]> {
    const multi = this.link.client.multi().exists(this.keys.record(eventId)).hgetall(this.keys.stats(eventId));
    const [exists, fields] = await this.link.run(() => exec(multi));
    return exists === 1 ? decodeStats(fields as Record<string, string>, sinceMinute) : [];
  }

  onChange(listener: ChangeListener): () => void {
    return this.link.onChange(listener);
  }

  async ping(): Promise<void> {
    await this.link.ping();
    await this.synced;
  }

  /**
   * Measures Redis's clock against the caller's: the midpoint of the quickest of three round
   * trips (a busy event loop makes a slow one lie). Differences under a second are taken as
   * none: clocks kept by NTP agree that well, and a measurement on a loaded machine does not,
   * so only a clock that is really off (a server a minute ahead) is corrected, to 100 ms.
   */
  private async syncClock(): Promise<void> {
    try {
      let best: { rtt: number; offset: number } | null = null;
      for (let i = 0; i < 3; i++) {
        const before = this.clock.now();
        const [s, us] = await this.link.client.time();
        const after = this.clock.now();
        const offset = Number(s) * 1000 + Math.floor(Number(us) / 1000) - (before + after) / 2;
        if (best === null || after - before < best.rtt) best = { rtt: after - before, offset };
      }
      this.offset = Math.abs(best!.offset) < CLOCK_AGREES_MS ? 0 : Math.round(best!.offset / 100) * 100;
    } catch {
      // The connection dropped again: the next 'ready' measures.
    }
  }


  /** Deletes every key under this store's prefix: for tests and for retiring a deployment. */
  async purge(): Promise<number> {
    return this.link.run(() => this.link.purge(this.keys.prefix));
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.presenceTimer);
      await this.flushPresence().catch(() => {});
      await this.snapshots.settle();
      await this.link.close();
    })();
    return this.closing;
  }

  private async loadSnapshot(id: string, epoch: string, seq: number, tag: string): Promise<SnapshotReply | null> {
    const reply = (await this.link.script('hlSnapshot', [this.keys.record(id), this.keys.log(id)], [epoch, seq, tag])) as
      | [RawRecord, string, RawEntry[]]
      | null;
    return reply ? { fields: reply[0], snap: reply[1], entries: reply[2] } : null;
  }

  /** Runs a pipeline that first writes this event's pending touches, so counts see them. */
  private async withPending(eventId: string, add: (pipe: ChainableCommander) => void): Promise<unknown[]> {
    return this.link.run(async () => {
      const pipe = this.link.client.pipeline();
      const touched = this.queueTouches(pipe, this.presence.take(eventId));
      add(pipe);
      const replies = await exec(pipe);
      this.touchesLanded(touched, replies);
      return replies;
    });
  }

  private async flushPresence(): Promise<void> {
    if (this.presence.size === 0 || !this.link.isReady) return;
    // A failed flush drops its touches: presence is soft state, the viewers' next polls re-touch.
    const pipe = this.link.client.pipeline();
    const touched = this.queueTouches(pipe, this.presence.take());
    this.touchesLanded(touched, await exec(pipe));
  }

  /** Queues the touch scripts; returns the event of each, in order. */
  private queueTouches(pipe: ChainableCommander, batches: TouchBatch[]): string[] {
    for (const { eventId, args } of batches) {
      const keys = [this.keys.record(eventId), this.keys.presence(eventId), this.keys.presenceLex(eventId)];
      this.link.queue(pipe, 'hlPresenceTouch', keys, args);
    }
    return batches.map((b) => b.eventId);
  }

  /**
   * A touch that found no record means the event's keys are gone though no delete was
   * announced (FLUSHDB, eviction, an operator's DEL): that is a change, so the poller re-reads
   * and answers its waiters 404 instead of trusting the head it remembers.
   */
  private touchesLanded(events: string[], replies: unknown[]): void {
    const gone = new Set<string>();
    events.forEach((id, i) => {
      if (replies[i] === 0) gone.add(id);
    });
    for (const id of gone) this.link.emitLocal(id);
  }

  /** Every event this server may have waiters on: the registry plus the events read lately. */
  private async wakeAll(): Promise<string[]> {
    const ids = new Set(this.watched.keys());
    // The subscription may be back before the command connection: give it a few tries.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        for (const id of await this.link.client.zrange(this.keys.events, '0', '-1')) ids.add(id);
        break;
      } catch {
        // Not up yet, or Redis went away again (then the next resubscribe wakes the rest).
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return [...ids];
  }
}
