/**
 * What the live dashboard (/admin/) shows, and how it stays live: GET /admin/summary answers the
 * whole picture once (every live event's last hour from the engagement stats, this server's
 * counters from the metrics), and while anyone follows the private event `holdline-ops`, every
 * server appends a tick to it each second (a score patch under `servers.<id>`, so the snapshot
 * holds each server's latest, plus the live events' last minutes). The dashboard follows that
 * event with the browser client: it is live by holdline's own mechanism, on one server or many.
 * Nothing here counts anything: the numbers are lib/engagement.ts's and lib/ops/metrics.ts's.
 */
import { hostname } from 'node:os';
import type { EventStats } from '../engagement.js';
import type { Hub } from '../hub.js';
import type { Principal } from '../model/access.js';
import { OPS_EVENT } from '../protocol.js';
import type { Clock, Timer } from '../util/clock.js';
import { randomId } from '../util/uuid.js';
import type { Metrics, ServerTotals } from './metrics.js';

/** The event the dashboard follows. Private: only admin tokens read or write it. */
export { OPS_EVENT };

/** A live event as the dashboard draws it. */
export interface DashboardEvent {
  id: string;
  title: string;
  sport: string;
  viewers: number;
  /** Oldest first: the whole hour in a summary, the last few minutes in a tick. */
  minutes: EventStats['minutes'];
  topEmoji: EventStats['topEmoji'];
  totals: EventStats['totals'];
  peak: EventStats['viewers']['peak'];
}

/** One server's part of a tick or summary. */
export interface ServerPart extends ServerTotals {
  /** When the numbers were read (ms). */
  at: number;
}

/** GET /admin/summary, and the data of every tick. */
export interface DashboardSummary {
  at: number;
  events: DashboardEvent[];
  servers: Record<string, ServerPart>;
}

export interface DashboardOptions {
  /** How often a tick is appended while someone watches. @default 1000 */
  tickMs?: number;
  /** Live events shown, the most watched first. @default 12 */
  maxEvents?: number;
  /** Minutes of each event a tick carries (the summary carries the hour). @default 3 */
  tickMinutes?: number;
  /** This server's name in `servers`. @default hostname-pid-random */
  serverId?: string;
  log?: (line: string, err?: unknown) => void;
}

/** The server itself, publishing its own ops event. */
const SELF: Principal = { sub: 'holdline', name: 'holdline', scopes: new Set(['admin']), events: null, expiresAt: null };

/** Builds the dashboard's numbers and, while it is watched, ticks them into OPS_EVENT. */
export class Dashboard {
  readonly serverId: string;
  private readonly options: Required<Omit<DashboardOptions, 'log' | 'serverId'>>;
  private readonly log: (line: string, err?: unknown) => void;
  private timer: Timer | null = null;
  private ticking = false;
  /** Ticks this server appended: taken out of its delta counts, which would count them too. */
  private ownTicks = 0;
  private created = false;
  private idleTicks = 0;

  constructor(
    private readonly hub: Hub,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    options: DashboardOptions = {},
  ) {
    this.serverId = options.serverId ?? `${hostname()}-${process.pid}-${randomId().slice(0, 4)}`;
    this.options = { tickMs: options.tickMs ?? 1000, maxEvents: options.maxEvents ?? 12, tickMinutes: options.tickMinutes ?? 3 };
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Every live event's last `minutes` minutes and this server's counters. The first summary
   * makes the ops event, so a dashboard (which reads the summary, then follows it) finds it;
   * a server nobody opened a dashboard on keeps no such event.
   */
  async summary(minutes = 60): Promise<DashboardSummary> {
    await this.ensureEvent();
    const now = this.clock.now();
    const records = (await this.hub.store.listEvents()).filter((r) => r.state !== 'ended' && r.id !== OPS_EVENT);
    const counted = await Promise.all(records.map(async (r) => ({ r, viewers: await this.hub.store.countPresence(r.id, now) })));
    counted.sort((a, b) => b.viewers - a.viewers || (a.r.id < b.r.id ? -1 : 1));
    const events = await Promise.all(
      counted.slice(0, this.options.maxEvents).map(async ({ r, viewers }): Promise<DashboardEvent> => {
        const stats = await this.hub.stats.read(r.id, viewers);
        return {
          id: r.id, title: r.meta.title, sport: r.meta.sport, viewers,
          minutes: stats.minutes.slice(-minutes), topEmoji: stats.topEmoji.slice(0, 5), totals: stats.totals, peak: stats.viewers.peak,
        };
      }),
    );
    return { at: now, events, servers: { [this.serverId]: await this.serverPart(now) } };
  }

  /** Starts ticking (each tick first checks that the ops event exists and someone watches it). */
  start(): void {
    this.timer ??= this.clock.every(this.options.tickMs, () => void this.tick());
  }

  /** Makes the ops event once; on Redis another server may have made it already (a PUT is idempotent). */
  private async ensureEvent(): Promise<void> {
    if (this.created) return;
    await this.hub.putEvent(OPS_EVENT, { title: 'holdline ops', sport: 'ops', visibility: 'private', state: 'live' }, SELF);
    this.created = true;
  }

  /** Stops ticking and takes this server out of the ops event's snapshot. Idempotent. */
  async close(): Promise<void> {
    if (!this.timer) return;
    this.timer.cancel();
    this.timer = null;
    if (!this.created) return;
    await this.hub.publishScore(OPS_EVENT, { op: 'patch', type: 'server-gone', data: { servers: { [this.serverId]: null } } }, SELF).catch(() => undefined);
  }

  private async serverPart(now: number): Promise<ServerPart> {
    const totals = await this.metrics.totals();
    const deltas = { ...totals.deltas, score: Math.max(0, (totals.deltas['score'] ?? 0) - this.ownTicks) };
    return { ...totals, deltas, at: now };
  }

  private async tick(): Promise<void> {
    // One tick at a time: a slow store must not pile them up.
    if (this.ticking || this.hub.draining) return;
    this.ticking = true;
    try {
      // Nobody opened a dashboard here: no event, nothing to tick (on Redis, another server's
      // dashboard made it: the store knows, so check it once).
      if (!this.created) {
        // Looked for every 10th tick only: an idle server costs the store next to nothing.
        if (this.idleTicks++ % 10 !== 0 || !(await this.hub.store.getEvent(OPS_EVENT))) return;
        this.created = true;
      }
      if ((await this.hub.store.countPresence(OPS_EVENT, this.clock.now())) === 0) return;
      const s = await this.summary(this.options.tickMinutes);
      this.ownTicks += 1;
      await this.hub.publishScore(OPS_EVENT, { op: 'patch', type: 'tick', data: { at: s.at, events: s.events, servers: s.servers } }, SELF);
    } catch (err) {
      this.log('dashboard tick failed', err);
    } finally {
      this.ticking = false;
    }
  }
}
