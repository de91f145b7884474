import { randomBytes } from 'node:crypto';
import { requireScope, requireWrite, type Principal } from '../model/access.js';
import type { Clock } from '../util/clock.js';
import type { RateLimit } from '../config.js';
import { HubError } from '../model/errors.js';
import { eventEmoticons, parseChat, parseReaction } from '../model/fan-input.js';
import type { DeltaDraft } from '../protocol.js';
import { ReactionWindows, type WindowOnce } from './reactions.js';
import type { EventLog, RateLimiter } from '../store/types.js';
import { APPEND_MARKS, fillAppendMarks } from '../store/types.js';
import { replayed, type IdempotencyTicket } from '../idempotency.js';
import type { EventRecord } from '../model/records.js';

export interface FansOptions {
  /** Reaction aggregation window. @default 1000 */
  reactionWindowMs?: number;
  /** Chat messages per identity. @default 5 per 10 s */
  rateChat?: RateLimit;
  /** Reactions per identity. @default 20 per 10 s */
  rateReactions?: RateLimit;
  /** Anonymous reactions per client address, whatever viewer ids it claims. @default 200 per 10 s */
  rateAddressReactions?: RateLimit;
  /** New emoji one sender may bring into an event's reaction window. @default 8 */
  reactionNewPerIdentity?: number;
  /** Where background failures (a reaction window that could not be appended) are reported. */
  log?: (line: string, err?: unknown) => void;
  /** Told of what was written, for the engagement stats (lib/engagement.ts). */
  engagement?: Engagement;
}

/** What the engagement stats hear from chat and reactions, once each is in the log. */
export interface Engagement {
  /** A reactions window was appended with these counts. */
  reactions(eventId: string, emojiCounts: Readonly<Record<string, number>>): void;
  /** A chat message was appended. */
  chat(eventId: string): void;
}

/** Who sent a write: the rate-limit identity, and what reaction samples show (never an address). */
export interface Sender {
  /** `sub:…`, `viewer:…` or `ip:…`: the key of the rate limits. */
  identity: string;
  /** The sub or viewer id, or null for an anonymous sender. */
  user: string | null;
  /** The client address as the per-address limits count it (IPv6 by /64); never shown. */
  address?: string;
}

/** A write's outcome for the HTTP layer: status and JSON body (replayed: from an Idempotency-Key's record). */
interface Answer {
  status: number;
  body: string;
  replayed?: boolean;
}

const CHAT_LIMIT: RateLimit = { count: 5, windowMs: 10_000 };
const REACTIONS_LIMIT: RateLimit = { count: 20, windowMs: 10_000 };
const ADDRESS_REACTIONS_LIMIT: RateLimit = { count: 200, windowMs: 10_000 };

/**
 * What viewers write: chat (and its moderation) and reactions, rate-limited per identity.
 * Owned by the Hub; knows the Store interface only. Reactions are folded per window per
 * server by ReactionWindows, so a flood costs the log one delta per window.
 */
export class Fans {
  private readonly store: EventLog & RateLimiter;
  private readonly clock: Clock;
  private readonly options: FansOptions;
  /** This server's open reaction windows. */
  readonly reactions: ReactionWindows;

  constructor(store: EventLog & RateLimiter, clock: Clock, options: FansOptions) {
    this.store = store;
    this.clock = clock;
    this.options = options;
    // Reactions accepted before an event ended are still counted, hence requireOpen: false.
    const append = async (eventId: string, draft: DeltaDraft, once: WindowOnce): Promise<void> => {
      const result = await store.appendOnce(eventId, draft, { now: clock.now(), requireOpen: false }, once);
      // Counted when applied, once: a retry of a window that had landed is not counted again.
      if (result.appended && draft.kind === 'reactions') options.engagement?.reactions(eventId, draft.counts);
    };
    this.reactions = new ReactionWindows(clock, append, {
      windowMs: options.reactionWindowMs ?? 1000,
      log: options.log,
      ...(options.reactionNewPerIdentity === undefined ? {} : { maxNewPerSender: options.reactionNewPerIdentity }),
    });
  }

  /** POST /events/:id/chat: a reader with a `sub` says something; 201 {seq, id}. */
  async chat(eventId: string, body: unknown, principal: Principal | null, ticket: IdempotencyTicket | null = null): Promise<Answer> {
    if (!principal) throw new HubError('unauthorized', 'chat needs a token');
    if (!principal.sub) throw new HubError('forbidden', 'chat needs a token with a sub');
    const record = await this.writable(eventId, principal);
    const text = parseChat(body);
    if (record.state === 'ended') throw new HubError('event_ended', `event ${eventId} has ended`);
    await this.rateHit('chat', `sub:${principal.sub}`, this.options.rateChat ?? CHAT_LIMIT);
    const id = randomBytes(12).toString('base64url');
    const user = principal.name ? { id: principal.sub, name: principal.name } : { id: principal.sub };
    const draft: DeltaDraft = { kind: 'chat', id, user, text };
    const answer = `{"seq":${APPEND_MARKS.seq},"id":${JSON.stringify(id)}}`;
    if (ticket === null) {
      const { entry, epoch } = await this.store.append(eventId, draft, { now: this.clock.now() });
      this.options.engagement?.chat(eventId);
      return { status: 201, body: fillAppendMarks(answer, epoch, entry.seq, entry.tag) };
    }
    const once = { request: ticket.key, fingerprint: ticket.fingerprint, status: 201, body: answer };
    const result = await this.store.appendOnce(eventId, draft, { now: this.clock.now() }, once);
    if (!result.appended) return replayed(result.recorded!, ticket);
    this.options.engagement?.chat(eventId);
    return { status: 201, body: fillAppendMarks(answer, result.epoch, result.entry.seq, result.entry.tag), replayed: false };
  }

  /** DELETE /events/:id/chat/:msgId (admin): only a message still in the snapshot can be deleted. */
  async deleteChat(eventId: string, messageId: string, principal: Principal | null): Promise<void> {
    requireScope(principal, 'admin', eventId);
    const snap = await this.store.snapshot(eventId);
    if (!snap) throw new HubError('not_found', `no event ${eventId}`);
    if (!snap.snapshot.chat.some((m) => m.id === messageId)) {
      throw new HubError('not_found', `no chat message ${messageId} among the event's recent messages`);
    }
    // Moderation goes on after the end: an abusive message must be removable from an ended event.
    await this.store.append(eventId, { kind: 'chat', op: 'delete', id: messageId }, { now: this.clock.now(), requireOpen: false });
  }

  /** POST /events/:id/reactions: counted in this server's open window; 202. */
  async react(eventId: string, body: unknown, principal: Principal | null, sender: Sender): Promise<Answer> {
    const record = await this.writable(eventId, principal);
    const { emoji, comment } = parseReaction(body, eventEmoticons(record.meta));
    if (record.state === 'ended') throw new HubError('event_ended', `event ${eventId} has ended`);
    // A reaction the window would refuse must not spend the sender's budget (shared on Redis).
    // A sender's share of new names: a token's sub, else the address (viewer ids cost nothing to rotate).
    const share = principal?.sub ? sender.identity : sender.address !== undefined ? `ip:${sender.address}` : sender.identity;
    this.reactions.check(eventId, emoji, share);
    // An anonymous sender picks its viewer id, so a new id per reaction would be a new budget:
    // its address (IPv6 by /64) has a budget of its own, generous for the fans behind one NAT.
    if (!principal?.sub && sender.address !== undefined) {
      await this.rateHit('address-reactions', `ip:${sender.address}`, this.options.rateAddressReactions ?? ADDRESS_REACTIONS_LIMIT);
    }
    await this.rateHit('reactions', sender.identity, this.options.rateReactions ?? REACTIONS_LIMIT);
    // A sample's name is verified only when a token says so: a `viewer` is anyone's to claim.
    this.reactions.add(eventId, emoji, comment, sender.user, share, Boolean(principal?.sub));
    return { status: 202, body: '{"accepted":true}' };
  }

  /** Appends the open reaction windows and refuses new reactions (drain). */
  close(): Promise<void> {
    return this.reactions.close();
  }

  /** Stops the window timer at once; whatever is still pending is reported lost. */
  stop(): void {
    this.reactions.stop();
  }

  /** One hit on the identity's counter for this kind of write; 429 with Retry-After beyond it. */
  private async rateHit(bucket: 'chat' | 'reactions' | 'address-reactions', identity: string, limit: RateLimit): Promise<void> {
    const hit = await this.store.rateHit(`${bucket}|${identity}`, limit.count, limit.windowMs, this.clock.now());
    if (hit.allowed) return;
    throw new HubError('rate_limited', `at most ${limit.count} ${bucket} writes per ${limit.windowMs / 1000} s`, {
      retryAfterS: Math.max(1, Math.ceil(hit.retryAfterMs / 1000)),
    });
  }

  /** The event, when the principal may read it and write to it (a token's `events` claim limits both). */
  private async writable(eventId: string, principal: Principal | null): Promise<EventRecord> {
    const record = await this.store.getEvent(eventId);
    if (!record) throw new HubError('not_found', `no event ${eventId}`);
    requireWrite(principal, record);
    return record;
  }
}
