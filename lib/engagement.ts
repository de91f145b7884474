import { LRUCache } from 'lru-cache';
import type { Clock, Timer } from './util/clock.js';
import { emptyEmoji, mergeEmoji } from './model/stats-ring.js';
import type { StatsStore } from './store/types.js';
import { STATS_MINUTES, type StatsCounters } from './model/records.js';

const MINUTE_MS = 60_000;

export interface EngagementStatsOptions {
  /** Events tracked at once (pending counters and viewer samples). @default 1000 */
  maxEvents: number;
  /** A viewer sample older than this no longer counts as current. @default 35_000 */
  presenceTtlMs: number;
  /** How often pending counters are written to the store. @default 5000 */
  flushMs?: number;
  /** How many emoji GET /events/:id/stats lists. @default 10 */
  topEmoji?: number;
}

/** GET /events/:id/stats: engagement over the last hour. */
export interface EventStats {
  event: string;
  /** The minutes covered: [from, to) in ms, one entry per minute in `minutes`. */
  window: { from: number; to: number };
  viewers: { current: number; peak: number; peakAt: number | null };
  totals: { reactions: number; chat: number };
  /** Oldest first, every minute of the window, zeros where nothing happened. */
  minutes: Array<{ at: number; viewers: number; reactions: number; chat: number }>;
  topEmoji: Array<{ emoji: string; count: number }>;
}

interface Pending {
  minute: number;
  counters: StatsCounters;
}

/**
 * Engagement per event and minute: peak viewers (sampled from poll answers), reactions by emoji
 * and chat messages. Counts accumulate here and are merged into the store every few seconds, so
 * a flood of reactions costs the store one write per event per flush, and several servers on
 * one Redis add up. Bounded: at most `maxEvents` events pending and sampled.
 */
export class EngagementStats {
  private readonly store: StatsStore;
  private readonly clock: Clock;
  private readonly options: Required<EngagementStatsOptions>;
  private readonly pending = new Map<string, Pending>();
  private readonly latest: LRUCache<string, { count: number; at: number }>;
  private timer: Timer | null = null;
  private closed = false;

  constructor(store: StatsStore, clock: Clock, options: EngagementStatsOptions) {
    this.store = store;
    this.clock = clock;
    this.options = { flushMs: 5000, topEmoji: 10, ...options };
    this.latest = new LRUCache({ max: options.maxEvents });
  }

  /** A poll answer counted `count` viewers on the event. */
  viewers(eventId: string, count: number): void {
    const now = this.clock.now();
    const sample = this.latest.get(eventId);
    if (sample) {
      sample.count = count;
      sample.at = now;
    } else this.latest.set(eventId, { count, at: now });
    const p = this.counters(eventId, now);
    if (p && count > p.peakViewers) p.peakViewers = count;
  }

  /** Reactions of one aggregation window, once appended (Fans calls this): emoji → count. */
  reactions(eventId: string, emojiCounts: Readonly<Record<string, number>>): void {
    const p = this.counters(eventId, this.clock.now());
    if (!p) return;
    for (const n of Object.values(emojiCounts)) if (Number.isFinite(n) && n > 0) p.reactions += n;
    mergeEmoji(p.emoji, emojiCounts);
  }

  /** `messages` chat messages were posted (Fans calls this once per message). */
  chat(eventId: string, messages = 1): void {
    const p = this.counters(eventId, this.clock.now());
    if (p) p.chat += messages;
  }

  /** Events whose poll answers counted viewers within PRESENCE_TTL_MS (at most `maxEvents`). */
  recentEvents(): string[] {
    const since = this.clock.now() - this.options.presenceTtlMs;
    const out: string[] = [];
    for (const [event, s] of this.latest.entries()) if (s.at >= since && s.count > 0) out.push(event);
    return out;
  }

  /** The last hour of an event, with what is pending here written first. */
  async read(eventId: string, currentViewers: number): Promise<EventStats> {
    await this.flush(eventId);
    const now = this.clock.now();
    const last = Math.floor(now / MINUTE_MS);
    const first = last - STATS_MINUTES + 1;
    const recorded = new Map((await this.store.readStats(eventId, first)).map((m) => [m.minute, m]));
    const emoji = new Map<string, number>();
    const out: EventStats = {
      event: eventId,
      window: { from: first * MINUTE_MS, to: (last + 1) * MINUTE_MS },
      viewers: { current: currentViewers, peak: currentViewers, peakAt: currentViewers > 0 ? last * MINUTE_MS : null },
      totals: { reactions: 0, chat: 0 },
      minutes: [],
      topEmoji: [],
    };
    for (let minute = first; minute <= last; minute++) {
      const m = recorded.get(minute);
      const row = { at: minute * MINUTE_MS, viewers: m?.peakViewers ?? 0, reactions: m?.reactions ?? 0, chat: m?.chat ?? 0 };
      out.minutes.push(row);
      out.totals.reactions += row.reactions;
      out.totals.chat += row.chat;
      if (row.viewers > out.viewers.peak) out.viewers = { ...out.viewers, peak: row.viewers, peakAt: row.at };
      for (const [e, n] of Object.entries(m?.emoji ?? {})) emoji.set(e, (emoji.get(e) ?? 0) + n);
    }
    out.topEmoji = [...emoji]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, this.options.topEmoji)
      .map(([e, count]) => ({ emoji: e, count }));
    return out;
  }

  /** Writes pending counters (one event's, or all) to the store; stats are best effort. */
  async flush(eventId?: string): Promise<void> {
    const ids = eventId === undefined ? [...this.pending.keys()] : [eventId];
    await Promise.all(ids.map((id) => this.write(id)));
    if (this.pending.size === 0) this.stopTimer();
  }

  /** Writes everything pending and stops the flush timer. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopTimer();
    await this.flush();
  }

  /** The pending counters of the event's current minute, moving on (and writing) when the minute changed. */
  private counters(eventId: string, now: number): StatsCounters | null {
    if (this.closed) return null;
    const minute = Math.floor(now / MINUTE_MS);
    const p = this.pending.get(eventId);
    if (p && p.minute === minute) return p.counters;
    if (p) void this.write(eventId);
    else if (this.pending.size >= this.options.maxEvents) void this.flush();
    const fresh: Pending = { minute, counters: { peakViewers: 0, reactions: 0, chat: 0, emoji: emptyEmoji() } };
    this.pending.set(eventId, fresh);
    this.timer ??= this.clock.every(this.options.flushMs, () => void this.flush());
    return fresh.counters;
  }

  private async write(eventId: string): Promise<void> {
    const p = this.pending.get(eventId);
    if (!p) return;
    this.pending.delete(eventId);
    await this.store.recordStats(eventId, p.minute, p.counters).catch(() => undefined);
  }

  private stopTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
