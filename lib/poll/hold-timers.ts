import type { Clock, Timer } from '../util/clock.js';

/** What the wheel keeps on each item it arms: the item is its own list node, so arming allocates nothing. */
export interface Timed {
  /** The tick the item is armed for; -1 when it is not armed. */
  timerTick: number;
  timerPrev: Timed | null;
  timerNext: Timed | null;
}

/** The fields a Timed starts with (spread into a constructor, or assigned). */
export const UNARMED = { timerTick: -1, timerPrev: null, timerNext: null } as const;

/**
 * One coarse timer wheel for every held poll: items are bucketed by deadline tick and a single
 * interval expires whole buckets, so a hold costs a place in a list, not a setTimeout of its
 * own. The lists run through the items themselves: a poll is armed and disarmed thousands of
 * times a second, and neither may allocate.
 */
export class HoldTimers<T extends Timed> {
  /** The first item of each tick's list. */
  private readonly buckets = new Map<number, T>();
  private armed = 0;
  private readonly tickMs: number;
  private readonly clock: Clock;
  private readonly onExpire: (items: T[]) => void;
  private timer: Timer | null = null;

  /** @param onExpire receives every item that fell due in one sweep, so callers can batch. */
  constructor(clock: Clock, tickMs: number, onExpire: (items: T[]) => void) {
    this.clock = clock;
    this.tickMs = tickMs;
    this.onExpire = onExpire;
  }

  /** Arms item to expire at `deadline` (ms), at most one tick late; re-arms an armed one. */
  add(item: T, deadline: number): void {
    if (item.timerTick !== -1) this.delete(item);
    const tick = Math.ceil(deadline / this.tickMs);
    const first = this.buckets.get(tick);
    item.timerTick = tick;
    item.timerPrev = null;
    item.timerNext = first ?? null;
    if (first) first.timerPrev = item;
    this.buckets.set(tick, item);
    this.armed += 1;
    // The interval runs only while something is held: an idle server has no timer at all.
    if (!this.timer) this.timer = this.clock.every(this.tickMs, () => this.sweep());
  }

  /** Disarms item; a no-op when it is not armed. */
  delete(item: T): void {
    const tick = item.timerTick;
    if (tick === -1) return;
    const { timerPrev: prev, timerNext: next } = item;
    if (prev) prev.timerNext = next;
    else if (next) this.buckets.set(tick, next as T);
    else this.buckets.delete(tick);
    if (next) next.timerPrev = prev;
    item.timerTick = -1;
    item.timerPrev = null;
    item.timerNext = null;
    this.armed -= 1;
    if (this.armed === 0) this.stop();
  }

  get size(): number {
    return this.armed;
  }

  /** Expires every item whose deadline has passed. */
  sweep(): void {
    // Buckets number at most MAX_HOLD_MS / tickMs (600 at 100 ms), so a full scan is cheap.
    const nowTick = Math.floor(this.clock.now() / this.tickMs);
    const due: T[] = [];
    for (const [tick, first] of this.buckets) {
      if (tick > nowTick) continue;
      for (let item: Timed | null = first; item !== null; item = item.timerNext) due.push(item as T);
    }
    if (due.length === 0) return;
    for (const item of due) this.delete(item);
    this.onExpire(due);
  }

  /** Stops the interval; armed items stay armed but no longer expire. */
  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
