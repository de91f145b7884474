import type { Clock, Timer } from './clock.js';

/**
 * One coarse timer wheel for every held poll: items are bucketed by deadline tick and a single
 * interval expires whole buckets, so a hold costs a Set slot, not a setTimeout of its own.
 */
export class HoldTimers<T> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly tickOf = new Map<T, number>();
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

  /** Arms item to expire at `deadline` (ms), at most one tick late. */
  add(item: T, deadline: number): void {
    const tick = Math.ceil(deadline / this.tickMs);
    let bucket = this.buckets.get(tick);
    if (!bucket) this.buckets.set(tick, (bucket = new Set()));
    bucket.add(item);
    this.tickOf.set(item, tick);
    // The interval runs only while something is held: an idle server has no timer at all.
    if (!this.timer) this.timer = this.clock.every(this.tickMs, () => this.sweep());
  }

  /** Disarms item; a no-op when it is not armed. */
  delete(item: T): void {
    const tick = this.tickOf.get(item);
    if (tick === undefined) return;
    this.tickOf.delete(item);
    const bucket = this.buckets.get(tick);
    bucket?.delete(item);
    if (bucket && bucket.size === 0) this.buckets.delete(tick);
    if (this.tickOf.size === 0) this.stop();
  }

  get size(): number {
    return this.tickOf.size;
  }

  /** Expires every item whose deadline has passed. */
  sweep(): void {
    // Buckets number at most MAX_HOLD_MS / tickMs (600 at 100 ms), so a full scan is cheap.
    const nowTick = Math.floor(this.clock.now() / this.tickMs);
    const due: T[] = [];
    for (const [tick, bucket] of this.buckets) if (tick <= nowTick) for (const item of bucket) due.push(item);
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
