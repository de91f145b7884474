import { randomUUID } from 'node:crypto';
import { canRead, requirePublish, requireRead, requireScope, type Principal } from './model/access.js';
import type { Clock } from './util/clock.js';
import { formatCursor } from './model/cursor.js';
import { HubError, invalid } from './model/errors.js';
import { checkEventEmoticons } from './model/fan-input.js';
import { mergeMeta, parseEventInput, parseNotice, parseScore } from './model/event-input.js';
import type { SharedAnswer } from './poll/answer.js';
import { Poller, type PollHandle, type PollRequest, type PollSink, type PollSub } from './poll/poller.js';
import type { Advice, DeltaDraft, EventDetail, EventSummary } from './protocol.js';
import type { Store } from './store/types.js';
import { APPEND_MARKS, fillAppendMarks } from './store/types.js';
import type { EventRecord } from './model/records.js';
import type { DeltaFilter } from './poll/filter.js';
import { replayed, runIdempotent, type IdempotencyTicket } from './idempotency.js';
import { Fans, type FansOptions } from './fans/fans.js';
import { NOOP_OBSERVER, type HubObserver } from './observer.js';
import { EngagementStats, type EventStats } from './engagement.js';
import { Followers, type Follower, type FollowSink, type FollowTarget, type StreamObserver, type Transport } from './poll/follower.js';

/** How long the anonymous GET /events answer is reused. */
const LIST_CACHE_MS = 1000;

export interface HubOptions extends FansOptions {
  /** @default 25_000 */
  holdTimeoutMs: number;
  /** @default 60_000 */
  maxHoldMs: number;
  /** @default 256 */
  maxBatch: number;
  /** @default 1024 */
  ringSize: number;
  /** @default 35_000 */
  presenceTtlMs: number;
  /** Largest page of presence members. @default 1000 */
  membersPage?: number;
  /** Events whose engagement is tracked at once. @default 1000 */
  statsMaxEvents?: number;
  /** Told how polls are answered (metrics); must be cheap. @default NOOP_OBSERVER */
  observer?: HubObserver;
  /** Held polls per client address; 0 = no cap. @default 20_000 */
  maxHeldPerAddress?: number;
  /** A stream with more than this queued for its client is cut with its resume point. @default 262_144 */
  streamBufferBytes?: number;
  /** Told of streams opening and ending (metrics). */
  streamObserver?: StreamObserver;
}

/** What a caller of poll/join says about the viewer and the hold. */
export interface PollOptions {
  viewer: string | null;
  holdMs: number;
  filter: DeltaFilter;
  principal: Principal | null;
  /** For the promise form only: aborting drops the hold and resolves null. */
  signal?: AbortSignal;
  /** The client's address, for the cap on held polls per address. */
  address?: string;
  /** A hold of a stream (lib/follower.ts), counted apart from poll requests. */
  stream?: boolean;
}

/** A write's outcome for the HTTP layer: status and JSON body. */
export interface WriteAnswer {
  status: number;
  body: string;
  /** True when answered from the record of an earlier request with the same Idempotency-Key. */
  replayed?: boolean;
}

/**
 * The domain: publishing, reading, polling and presence. Knows the Store interface only: no
 * HTTP, no Redis, no process.env. Every refusal is a HubError.
 */
export class Hub {
  readonly store: Store;
  /** Engagement per event and minute: fed by poll answers (viewers) and by Fans (chat, reaction windows). */
  readonly stats: EngagementStats;
  private readonly clock: Clock;
  private readonly options: HubOptions;
  private readonly poller: Poller;
  private readonly unsubscribe: () => void;
  /** Chat and reactions: what viewers write (lib/fans/fans.ts). */
  readonly fans: Fans;
  /** Open streams (SSE, WebSocket): followers re-arming holds on this hub's poller. */
  readonly followers: Followers;
  private closed = false;
  private drainStarted = false;
  /** The anonymous GET /events answer and when it was counted. */
  private publicList: { at: number; list: Promise<EventSummary[]> } | null = null;

  constructor(store: Store, clock: Clock, options: HubOptions) {
    this.store = store;
    this.clock = clock;
    this.options = options;
    this.stats = new EngagementStats(store, clock, { maxEvents: options.statsMaxEvents ?? 1000, presenceTtlMs: options.presenceTtlMs });
    const outer = options.observer ?? NOOP_OBSERVER;
    const stats = this.stats;
    // Viewer counts feed both the metrics and the engagement stats; made once, not per answer.
    const observer: HubObserver = {
      answered: (outcome, polls) => outer.answered(outcome, polls),
      delivered: (entries, polls, path, now) => outer.delivered(entries, polls, path, now),
      viewers: (eventId, count) => {
        stats.viewers(eventId, count);
        outer.viewers(eventId, count);
      },
      abandoned: (ageMs) => outer.abandoned(ageMs),
    };
    this.poller = new Poller(store, clock, {
      holdTimeoutMs: options.holdTimeoutMs,
      maxBatch: Math.min(options.maxBatch, options.ringSize),
      presenceTtlMs: options.presenceTtlMs,
      observer,
      ...(options.maxHeldPerAddress === undefined ? {} : { maxHeldPerAddress: options.maxHeldPerAddress }),
    });
    this.unsubscribe = store.onChange((eventId) => {
      // A new, changed or deleted event shows in the next anonymous list at once; only the
      // viewer counts in it may be up to LIST_CACHE_MS old.
      this.publicList = null;
      this.poller.notify(eventId);
    });
    this.fans = new Fans(store, clock, { ...options, engagement: this.stats });
    this.followers = new Followers(this, clock, this.poller.addresses, {
      holdMs: options.holdTimeoutMs,
      maxBufferedBytes: options.streamBufferBytes ?? 262_144,
    }, options.streamObserver ?? null);
  }

  /** Starts a stream (SSE, WebSocket) on the poll core; see lib/follower.ts. */
  follow(transport: Transport, target: FollowTarget, sink: FollowSink): Follower {
    return this.followers.follow(transport, target, sink);
  }

  /** What a client sent away by a drain is told (a jittered retry). */
  drainAdvice(): Advice {
    return this.poller.drainAdvice();
  }

  /** Open streams of a transport (the holdline_connections gauge). */
  streams(transport: Transport): number {
    return this.followers.count(transport);
  }

  /** Poll requests held right now (the holdline_held_polls gauge; streams' holds not counted). */
  get heldPolls(): number {
    return this.poller.held;
  }

  /** The hold a poll gets: `timeout` seconds from the query, clamped to MAX_HOLD_MS; null = default. */
  holdMs(timeoutS: number | null): number {
    if (timeoutS === null) return this.options.holdTimeoutMs;
    return Math.min(Math.round(timeoutS * 1000), this.options.maxHoldMs);
  }

  /** What a client should do between polls. */
  advice(): Advice {
    return { timeoutMs: this.options.holdTimeoutMs, maxTimeoutMs: this.options.maxHoldMs, retryMs: 1000 };
  }

  /** GET /events/:id/poll: the sink hears the answer now or when the cursor advances. */
  hold(eventId: string, cursor: string | null, options: PollOptions, sink: PollSink): PollHandle {
    return this.poller.poll(this.pollRequest([{ eventId, cursor }], false, options), sink);
  }

  /** GET/POST /poll: several events in one held request, answered as `{results: [...]}`. */
  holdMany(subs: PollSub[], options: PollOptions, sink: PollSink): PollHandle {
    return this.poller.poll(this.pollRequest(subs, true, options), sink);
  }

  /** hold() as a promise of the answer text (null when options.signal aborted it). */
  poll(eventId: string, cursor: string | null, options: PollOptions): Promise<string | null> {
    return asPromise((sink) => this.hold(eventId, cursor, options, sink), options.signal);
  }

  /** holdMany() as a promise of the answer text. */
  pollMany(subs: PollSub[], options: PollOptions): Promise<string | null> {
    return asPromise((sink) => this.holdMany(subs, options, sink), options.signal);
  }

  /** POST /events/:id/join: the snapshot answer plus the viewer id and advice. */
  async join(eventId: string, viewerId: string | null, principal: Principal | null): Promise<string> {
    const id = principal?.sub ?? viewerId ?? `v-${randomUUID()}`;
    const req = this.pollRequest([{ eventId, cursor: null }], false, {
      viewer: id, holdMs: 0, filter: { kinds: null, types: null, key: '' }, principal,
    });
    req.join = { viewerId: id, advice: this.advice() };
    return (await asPromise((sink) => this.poller.poll(req, sink)))!;
  }

  /** POST /events/:id/leave: the viewer stops counting at once. */
  async leave(eventId: string, viewerId: string | null, principal: Principal | null): Promise<void> {
    const id = presenceId(principal, viewerId);
    if (id === null) throw invalid('id', 'leave needs a viewer: a token with sub, the viewer parameter, or {"id"} in the body');
    await this.readable(eventId, principal);
    this.poller.forget(eventId, id);
    await this.store.removePresence(eventId, id);
  }

  /** PUT /events/:id: creates (201) or updates (200) the event; a state or meta change appends a status delta. */
  async putEvent(eventId: string, body: unknown, principal: Principal | null): Promise<WriteAnswer> {
    requirePublish(principal, eventId);
    const input = parseEventInput(body);
    checkEventEmoticons(input.meta);
    const now = this.clock.now();
    let record = await this.store.getEvent(eventId);
    if (!record) {
      const created = await this.store.createEvent(eventId, mergeMeta(eventId, null, input), input.state ?? 'scheduled', now);
      if (created) return { status: 201, body: JSON.stringify(await this.detail(eventId)) };
      record = await this.store.getEvent(eventId);
      if (!record) throw new HubError('not_found', `event ${eventId} was deleted meanwhile`);
    }
    const meta = mergeMeta(eventId, record.meta, input);
    const state = input.state ?? record.state;
    if (JSON.stringify(meta) !== JSON.stringify(record.meta) || state !== record.state) {
      await this.store.append(eventId, { kind: 'status', data: { state, meta } }, { now, requireOpen: true });
    }
    return { status: 200, body: JSON.stringify(await this.detail(eventId)) };
  }

  /** POST /events/:id/scores. */
  async publishScore(eventId: string, body: unknown, principal: Principal | null, ticket: IdempotencyTicket | null = null): Promise<WriteAnswer> {
    requirePublish(principal, eventId);
    const { draft, version } = parseScore(body);
    return this.append(eventId, draft, 201, ticket, version);
  }

  /** POST /events/:id/notices. */
  async publishNotice(eventId: string, body: unknown, principal: Principal | null, ticket: IdempotencyTicket | null = null): Promise<WriteAnswer> {
    requirePublish(principal, eventId);
    return this.append(eventId, parseNotice(body), 201, ticket);
  }

  /** POST /events/:id/end: appends status ended; 409 event_ended the second time. */
  async end(eventId: string, principal: Principal | null, ticket: IdempotencyTicket | null = null): Promise<WriteAnswer> {
    requirePublish(principal, eventId);
    return this.append(eventId, { kind: 'status', data: { state: 'ended' } }, 200, ticket);
  }

  /** DELETE /events/:id: the log, snapshot and presence go; held polls get 404. */
  async deleteEvent(eventId: string, principal: Principal | null): Promise<void> {
    requireScope(principal, 'admin', eventId);
    if (!(await this.store.deleteEvent(eventId))) throw new HubError('not_found', `no event ${eventId}`);
  }

  /** GET /events/:id. */
  async getEvent(eventId: string, principal: Principal | null): Promise<EventDetail> {
    await this.readable(eventId, principal);
    return this.detail(eventId);
  }

  /**
   * GET /events: public events plus the private ones the token may read. The anonymous list,
   * the same for every anonymous caller, is counted at most once per LIST_CACHE_MS (and again
   * after any change of an event), not per request: each answer counts presence on every event.
   */
  async listEvents(principal: Principal | null): Promise<EventSummary[]> {
    const now = this.clock.now();
    if (principal === null) {
      const cached = this.publicList;
      if (cached !== null && now - cached.at < LIST_CACHE_MS && now >= cached.at) return cached.list;
      const list = this.countList(null, now);
      this.publicList = { at: now, list };
      // A failed count is not remembered: the next caller tries again.
      list.catch(() => {
        if (this.publicList?.list === list) this.publicList = null;
      });
      return list;
    }
    return this.countList(principal, now);
  }

  private async countList(principal: Principal | null, now: number): Promise<EventSummary[]> {
    const records = (await this.store.listEvents()).filter((r) => canRead(principal, r));
    return Promise.all(
      records.map(async (r) => ({ id: r.id, meta: r.meta, state: r.state, viewers: await this.store.countPresence(r.id, now) })),
    );
  }

  /** GET /events/:id/presence: the count, and with admin the members a page at a time. */
  async presence(
    eventId: string,
    principal: Principal | null,
    members: boolean,
    page: string | null,
  ): Promise<{ viewers: number; members?: string[]; next?: string | null }> {
    await this.readable(eventId, principal);
    const now = this.clock.now();
    const viewers = await this.store.countPresence(eventId, now);
    if (!members) return { viewers };
    requireScope(principal, 'admin', eventId);
    const list = await this.store.listPresence(eventId, now, page, this.options.membersPage ?? 1000);
    return { viewers, members: list.members, next: list.next };
  }

  /** GET /events/:id/stats: peak and current viewers, reactions and chat per minute, top emoji, over the last hour. */
  async eventStats(eventId: string, principal: Principal | null): Promise<EventStats> {
    await this.readable(eventId, principal);
    return this.stats.read(eventId, await this.store.countPresence(eventId, this.clock.now()));
  }

  /**
   * Viewers present, counted now on every event with held polls or recent answers: the total
   * and the `topN` largest public ones (holdline_viewers and holdline_event_viewers). Read-only:
   * a scrape changes nothing, not even the engagement stats.
   */
  async viewerTotals(topN: number): Promise<{ total: number; top: Array<{ event: string; viewers: number }> }> {
    const now = this.clock.now();
    const ids = new Set([...this.stats.recentEvents(), ...this.poller.heldEvents()]);
    // A private event's name is not for whoever reads the metrics: it counts in the total only.
    const hidden = new Set((await this.store.listEvents()).filter((r) => r.meta.visibility === 'private').map((r) => r.id));
    const counted = await Promise.all(
      [...ids].map(async (event) => ({ event, viewers: await this.store.countPresence(event, now).catch(() => 0) })),
    );
    let total = 0;
    for (const c of counted) total += c.viewers;
    const top = counted.filter((c) => c.viewers > 0 && !hidden.has(c.event)).sort((a, b) => b.viewers - a.viewers || (a.event < b.event ? -1 : 1));
    return { total, top: top.slice(0, topN) };
  }

  /** Events that exist and have not ended (the holdline_events_open gauge). */
  async eventsOpen(): Promise<number> {
    return (await this.store.listEvents()).filter((r) => r.state !== 'ended').length;
  }

  /** Runs an appending write at most once per (scope, Idempotency-Key), its answer recorded inside the append; see lib/idempotency.ts. */
  idempotent(scope: string, key: string, body: unknown, run: (ticket: IdempotencyTicket) => Promise<WriteAnswer>): Promise<WriteAnswer & { replayed: boolean }> {
    return runIdempotent(this.store, scope, key, body, this.clock.now(), run);
  }

  /** Resolves when the store answers and the hub is not draining; 503 otherwise. */
  async ready(): Promise<void> {
    if (this.draining) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    await this.store.ping();
  }

  /** True once drain() has begun. */
  get draining(): boolean {
    return this.drainStarted;
  }

  /**
   * Answers every held poll with its cursor, refuses new ones, appends the open reaction windows
   * (SIGTERM); resolves with how many held polls were answered.
   */
  async drain(): Promise<number> {
    this.drainStarted = true;
    const answering = this.poller.drain();
    // Streams between two holds hear it now; parked ones with the drain answer.
    this.followers.drain();
    const [answered] = await Promise.all([answering, this.fans.close()]);
    return answered;
  }

  /** Stops polling and listening and writes pending stats; the store is closed by whoever opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.poller.close();
    this.fans.stop();
    await this.stats.close();
  }

  private pollRequest(subs: PollSub[], multi: boolean, o: PollOptions): PollRequest {
    const req: PollRequest = { subs, viewer: presenceId(o.principal, o.viewer), holdMs: o.holdMs, filter: o.filter, principal: o.principal, multi };
    if (o.address !== undefined) req.address = o.address;
    if (o.stream === true) req.stream = true;
    return req;
  }

  /** Appends a publisher's delta; with a ticket, at most once (the answer recorded in the append). */
  private async append(eventId: string, draft: DeltaDraft, status: number, ticket: IdempotencyTicket | null, version?: number): Promise<WriteAnswer> {
    const options = version === undefined ? { now: this.clock.now() } : { now: this.clock.now(), version };
    // The AppendAnswer with the entry's position as markers: the store fills and records it.
    const answer = `{"seq":${APPEND_MARKS.seq},"cursor":"${formatCursor(APPEND_MARKS.epoch, APPEND_MARKS.seq, APPEND_MARKS.tag)}"}`;
    if (ticket === null) {
      const { entry, epoch } = await this.store.append(eventId, draft, options);
      return { status, body: fillAppendMarks(answer, epoch, entry.seq, entry.tag) };
    }
    const result = await this.store.appendOnce(eventId, draft, options, { request: ticket.key, fingerprint: ticket.fingerprint, status, body: answer });
    if (!result.appended) return replayed(result.recorded!, ticket);
    return { status, body: fillAppendMarks(answer, result.epoch, result.entry.seq, result.entry.tag), replayed: false };
  }

  private async readable(eventId: string, principal: Principal | null): Promise<EventRecord> {
    const record = await this.store.getEvent(eventId);
    if (!record) throw new HubError('not_found', `no event ${eventId}`);
    requireRead(principal, record);
    return record;
  }

  private async detail(eventId: string): Promise<EventDetail> {
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    const { record, snapshot } = snap;
    const viewers = await this.store.countPresence(eventId, this.clock.now());
    return { id: eventId, meta: record.meta, state: record.state, cursor: formatCursor(record.epoch, record.head, record.tag), snapshot, viewers };
  }
}

/**
 * The id a viewer counts under in presence and the one-poll rule: a token's sub as it is; a
 * `viewer` parameter, which anyone can claim, behind CLAIMED_PREFIX, so a claimed "alice"
 * never touches (leaves, supersedes, counts as) the signed-in alice. Members show the prefix:
 * names without it are verified.
 */
export function presenceId(principal: Principal | null, viewer: string | null): string | null {
  if (principal?.sub) return principal.sub;
  return viewer === null ? null : `${CLAIMED_PREFIX}${viewer}`;
}

/** What marks a claimed (unverified) viewer id in presence; no token `sub` can start with it. */
export const CLAIMED_PREFIX = '~';

/** Adapts the sink form to a promise: for joins, tests and anything that is not a hot path. */
function asPromise(start: (sink: PollSink) => PollHandle, signal?: AbortSignal): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const sink: PollSink = {
      answer: (body: SharedAnswer) => resolve(body.text),
      fail: (error) => reject(error),
    };
    const handle = start(sink);
    if (!signal) return;
    const onAbort = () => {
      handle.cancel();
      resolve(null);
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
