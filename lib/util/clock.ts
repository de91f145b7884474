/** A cancellable repeating timer handle. */
export interface Timer {
  cancel(): void;
}

/** Time as the hub sees it: injected so tests advance it instead of sleeping. */
export interface Clock {
  now(): number;
  /** Calls fn every ms milliseconds until cancelled; never keeps the process alive. */
  every(ms: number, fn: () => void): Timer;
}

/** The real clock: Date.now and unref'ed intervals. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  },
};

/** A clock for tests: time moves only when advance() is called, running due timers in order. */
export class FakeClock implements Clock {
  private current: number;
  private timers = new Set<{ ms: number; next: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  every(ms: number, fn: () => void): Timer {
    const timer = { ms, next: this.current + ms, fn };
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  }

  /** Moves time forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let due: { ms: number; next: number; fn: () => void } | undefined;
      for (const t of this.timers) if (t.next <= target && (!due || t.next < due.next)) due = t;
      if (!due) break;
      this.current = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.current = target;
  }

  /** How many timers are running: tests assert it drops to zero on close(). */
  get activeTimers(): number {
    return this.timers.size;
  }
}
