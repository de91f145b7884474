import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../util/clock.js';
import { HubError, isHubError } from '../model/errors.js';
import type { DeltaDraft, ReactionSample } from '../protocol.js';

/** The draft of one aggregate, as handed to the store. */
export type ReactionsDraft = Extract<DeltaDraft, { kind: 'reactions' }>;

/** A window's identity: the `window`-th of this server (`source`), applied at most once by the store. */
export interface WindowOnce {
  source: string;
  window: number;
}

/** Appends one aggregate to the event's log at most once per WindowOnce; rejects when the store refuses. */
export type AppendReactions = (eventId: string, draft: ReactionsDraft, once: WindowOnce) => Promise<void>;

export interface ReactionWindowsOptions {
  /** Length of a window. @default 1000 */
  windowMs: number;
  /** Samples with comments kept per delta. @default 20 */
  maxSamples?: number;
  /** Distinct emoji per event per window; a new one beyond it is refused with 429. @default 256 */
  maxDistinct?: number;
  /** New emoji one sender may bring into an event's window, so no one sender fills maxDistinct. @default 8 */
  maxNewPerSender?: number;
  /** Attempts of the final flush on close before the counts are reported lost. @default 3 */
  closeAttempts?: number;
  /** Where failed flushes are reported. @default console.error */
  log?: (line: string, err?: unknown) => void;
}

/** What one event collected since its last successful flush. */
interface Window {
  /** Its number once closed and first sent: a retry sends the same number, so it lands once. */
  id: number | null;
  /** The draft as first sent, resent unchanged. */
  draft: ReactionsDraft | null;
  from: number;
  /** Sender → how many of this window's emoji it was the first to send. */
  introduced: Map<string, number>;
  counts: Map<string, number>;
  samples: ReactionSample[];
  /** Comments seen, for reservoir sampling. */
  commented: number;
}

/**
 * Folds reactions into one `reactions` delta per event per window, on this server: the log
 * grows by at most one delta per event per REACTION_WINDOW_MS however many arrive. Every
 * reaction added is counted exactly once: each closed window has an id the store applies at
 * most once, a window whose append fails is retried unchanged (never merged into the next: its
 * append may have landed although the reply was lost), and close() flushes the open window. The timer runs only while something
 * is pending, so an idle hub holds no timer.
 */
export class ReactionWindows {
  private readonly clock: Clock;
  private readonly append: AppendReactions;
  private readonly windowMs: number;
  private readonly maxSamples: number;
  private readonly maxDistinct: number;
  private readonly maxNewPerSender: number;
  private readonly closeAttempts: number;
  private readonly log: (line: string, err?: unknown) => void;
  private pending = new Map<string, Window>();
  /** Closed windows whose append failed, per event: retried as they were, before the open one. */
  private readonly retry = new Map<string, Window>();
  /** This server's name for its windows; with `nextWindow`, the WindowOnce the store checks. */
  private readonly source = randomBytes(8).toString('hex');
  private nextWindow = 0;
  private windowStart = 0;
  private timer: Timer | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(clock: Clock, append: AppendReactions, options: ReactionWindowsOptions) {
    this.clock = clock;
    this.append = append;
    this.windowMs = options.windowMs;
    this.maxSamples = options.maxSamples ?? 20;
    this.maxDistinct = options.maxDistinct ?? 256;
    this.maxNewPerSender = options.maxNewPerSender ?? 8;
    this.closeAttempts = options.closeAttempts ?? 3;
    this.log = options.log ?? ((line, err) => console.error(line, err ?? ''));
  }

  /** Reactions waiting for their window to be appended (all events). */
  get pendingCount(): number {
    let n = 0;
    for (const w of [...this.pending.values(), ...this.retry.values()]) n += total(w);
    return n;
  }

  /** True while the window timer runs. */
  get armed(): boolean {
    return this.timer !== null;
  }

  /** Counts one reaction in the event's open window; synchronous, so a 202 after it is never lost. */
  add(eventId: string, emoji: string, comment: string | null, user: string | null, sender?: string, verified = false): void {
    this.check(eventId, emoji, sender);
    if (!this.timer) {
      this.windowStart = this.clock.now();
      this.timer = this.clock.every(this.windowMs, () => this.tick());
    }
    let w = this.pending.get(eventId);
    if (!w) this.pending.set(eventId, (w = { id: null, draft: null, from: this.windowStart, counts: new Map(), samples: [], commented: 0, introduced: new Map() }));
    const seen = w.counts.get(emoji);
    if (seen === undefined && sender !== undefined) w.introduced.set(sender, (w.introduced.get(sender) ?? 0) + 1);
    w.counts.set(emoji, (seen ?? 0) + 1);
    if (comment !== null) this.sample(w, { user, verified: verified && user !== null, emoji, comment });
  }

  /**
   * Throws what add() would refuse with (draining, or a new emoji beyond the distinct bound),
   * changing nothing: callers check before they spend a rate-limit hit.
   */
  check(eventId: string, emoji: string, sender?: string): void {
    if (this.closed) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    const w = this.pending.get(eventId);
    if (!w || w.counts.has(emoji)) return;
    const retryAfterS = () => Math.max(1, Math.ceil((this.windowStart + this.windowMs - this.clock.now()) / 1000));
    if (w.counts.size >= this.maxDistinct) {
      throw new HubError('rate_limited', `at most ${this.maxDistinct} different reactions per window`, { retryAfterS: retryAfterS() });
    }
    // Each sender its own share of the window's new names: one sender alone cannot fill it and
    // answer every other fan's new emoji with 429 for the rest of the window.
    if (sender !== undefined && (w.introduced.get(sender) ?? 0) >= this.maxNewPerSender) {
      throw new HubError('rate_limited', `at most ${this.maxNewPerSender} new reactions per sender per window`, { retryAfterS: retryAfterS() });
    }
  }


  /** Resolves once the flush in flight, if any, has finished (tests, drain). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Closes the open window now and appends it; resolves when done (failures stay pending). */
  async flush(): Promise<void> {
    await this.settled();
    this.flushing = this.flushAll();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  /** Refuses new reactions, flushes what is pending (retrying a few times), stops the timer. */
  async close(): Promise<void> {
    if (this.closed && !this.timer && this.pending.size === 0 && this.retry.size === 0) return;
    this.closed = true;
    for (let i = 0; i < this.closeAttempts && (this.pending.size > 0 || this.retry.size > 0); i++) await this.flush();
    this.stop();
  }

  /** Stops the timer at once; anything still pending is reported lost, loudly. Idempotent. */
  stop(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    for (const [eventId, w] of [...this.retry, ...this.pending]) {
      this.log(`reactions: ${total(w)} reactions of event ${eventId} could not be appended and are lost`);
    }
    this.pending.clear();
    this.retry.clear();
  }

  private tick(): void {
    // A slow append must not let a second delta of the same event into this window: the
    // pending counts simply wait for the next tick, which covers the longer window.
    if (this.flushing) return;
    if (this.pending.size === 0 && this.retry.size === 0) {
      this.timer?.cancel();
      this.timer = null;
      return;
    }
    this.flushing = this.flushAll().finally(() => {
      this.flushing = null;
    });
  }

  private async flushAll(): Promise<void> {
    const to = this.clock.now();
    const batch = this.pending;
    this.pending = new Map();
    this.windowStart = to;
    const events = new Set([...this.retry.keys(), ...batch.keys()]);
    await Promise.all(
      [...events].map(async (eventId) => {
        // A window that failed goes first, unchanged: its append may have landed (a timeout),
        // and only its own id lets the store tell. The open window waits behind it.
        // One delta per event per tick still: the open window, never sent, merges into the next.
        const failed = this.retry.get(eventId);
        const open = batch.get(eventId);
        if (failed) {
          if (await this.send(eventId, failed, to)) this.retry.delete(eventId);
          if (open) this.reopen(eventId, open);
          return;
        }
        if (open && !(await this.send(eventId, open, to))) this.retry.set(eventId, open);
      }),
    );
  }

  /** Appends a closed window (numbered on its first send); false when it must be retried. */
  private async send(eventId: string, w: Window, to: number): Promise<boolean> {
    if (w.draft === null || w.id === null) {
      w.id = ++this.nextWindow;
      w.draft = {
        kind: 'reactions',
        // fromEntries defines own properties: an emoticon spelling "__proto__" stays a key.
        counts: Object.fromEntries(w.counts),
        samples: w.samples,
        window: { from: w.from, to },
      };
    }
    try {
      await this.append(eventId, w.draft, { source: this.source, window: w.id });
      return true;
    } catch (err) {
      if (isHubError(err) && err.code === 'not_found') {
        this.log(`reactions: event ${eventId} was deleted; its last ${total(w)} reactions went with it`);
        return true;
      }
      this.log(`reactions: appending ${total(w)} reactions of event ${eventId} failed; retrying it as it was with the next window`, err);
      return false;
    }
  }

  /** An open window that could not be sent yet goes back in front of the one opened since. */
  private reopen(eventId: string, w: Window): void {
    const newer = this.pending.get(eventId);
    if (newer) {
      for (const [emoji, n] of newer.counts) w.counts.set(emoji, (w.counts.get(emoji) ?? 0) + n);
      w.samples = [...w.samples, ...newer.samples].slice(-this.maxSamples);
      w.commented += newer.commented;
    }
    this.pending.set(eventId, w);
  }

  /** Reservoir sampling: every comment of the window has the same chance to be shown. */
  private sample(w: Window, s: ReactionSample): void {
    w.commented += 1;
    if (w.samples.length < this.maxSamples) {
      w.samples.push(s);
      return;
    }
    const j = Math.floor(Math.random() * w.commented);
    if (j < this.maxSamples) w.samples[j] = s;
  }
}

function total(w: Window): number {
  let n = 0;
  for (const c of w.counts.values()) n += c;
  return n;
}
