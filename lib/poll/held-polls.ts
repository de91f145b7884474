import { AddressCap } from './address-cap.js';
import type { Clock } from '../util/clock.js';
import { HoldTimers, UNARMED, type Timed } from './hold-timers.js';
import type { PollHandle, PollRequest, PollSink } from './reader.js';

/** A parked sub: one event of one held poll, at the cursor it waits after. */
export interface Sub {
  hold: Hold;
  eventId: string;
  epoch: string;
  seq: number;
  /** The tag of (epoch, seq) as the poll's read found it. */
  tag: string;
}

const NO_HOLDS: readonly Hold[] = Object.freeze([]);

/** Who may drop a hold when its client goes away. */
interface Dropper {
  drop(hold: Hold): void;
}

/**
 * A poll from start to answer. It keeps only what the answer needs (request, sink, parked
 * subs), never the HTTP context; every exit (answer, fail, drop) marks it done exactly once.
 */
export class Hold implements PollHandle, Timed {
  /** True once the sink was called or the client left: nothing may settle it again. */
  done = false;
  /** True while it is in the indexes of HeldPolls. */
  parked = false;
  /** Events the viewer left while this hold was parked: its end must not bring them back. */
  left: Set<string> | null = null;
  subs: Sub[] = [];
  timerTick = UNARMED.timerTick;
  timerPrev: Timed | null = UNARMED.timerPrev;
  timerNext: Timed | null = UNARMED.timerNext;
  constructor(
    private readonly owner: Dropper,
    readonly req: PollRequest,
    readonly sink: PollSink,
    /** Arrival order: of two polls of one viewer on one event, the later one is the one held. */
    readonly order: number,
    /** When it arrived (clock ms): a client gone while it was held is reported with its age. */
    readonly arrivedAt = 0,
  ) {}

  cancel(): void {
    this.owner.drop(this);
  }
}

/** A viewer's parked holds on one event: almost always one, so one is kept without an array. */
type ViewerHolds = Hold | Hold[];

/**
 * The indexes of parked polls: by event (for wakes), by (event, viewer) (for leave and the
 * one-poll-per-viewer rule), by client address (for its cap) and by deadline (one timer
 * wheel). Adding and removing keep all four in step; nothing here decides an answer. A poll is
 * parked and unparked thousands of times a second, so neither builds a key or a collection.
 */
export class HeldPolls {
  private count = 0;
  /** Parked holds that belong to a stream (SSE, WebSocket) rather than a poll request. */
  private streamCount = 0;
  private readonly byEvent = new Map<string, Set<Sub>>();
  /** Event id → viewer id → that viewer's holds there. */
  private readonly byViewer = new Map<string, Map<string, ViewerHolds>>();
  private readonly addresses: AddressCap;
  private readonly timers: HoldTimers<Hold>;

  /**
   * @param addresses the per-address cap, shared with the streams (a stream takes one slot for
   *   its life; its holds carry no address and take none).
   * @param onExpire receives every hold whose deadline passed in one sweep.
   */
  constructor(clock: Clock, tickMs: number, addresses: AddressCap, onExpire: (holds: Hold[]) => void) {
    this.addresses = addresses;
    this.timers = new HoldTimers<Hold>(clock, tickMs, onExpire);
  }

  get size(): number {
    return this.count;
  }

  /** How many of the parked holds belong to streams. */
  get streams(): number {
    return this.streamCount;
  }

  /** Every parked hold, once each. */
  all(): Hold[] {
    const holds = new Set<Hold>();
    for (const subs of this.byEvent.values()) for (const sub of subs) holds.add(sub.hold);
    return [...holds];
  }

  /** The events some parked hold waits on. */
  events(): IterableIterator<string> {
    return this.byEvent.keys();
  }

  /** The parked subs waiting on an event (live view: copy before settling). */
  subsOf(eventId: string): Set<Sub> | undefined {
    return this.byEvent.get(eventId);
  }

  hasEvent(eventId: string): boolean {
    return this.byEvent.has(eventId);
  }

  /** The parked holds of one viewer on one event (an array is made only when there is one). */
  holdsOf(eventId: string, viewer: string): readonly Hold[] {
    const mine = this.byViewer.get(eventId)?.get(viewer);
    return mine === undefined ? NO_HOLDS : Array.isArray(mine) ? mine : [mine];
  }

  /** Throws 429 when the hold's client address has no room for another held poll. */
  assertRoom(hold: Hold): void {
    this.addresses.assertRoom(hold.req.address ?? null);
  }

  /** Parks a hold whose subs are set, armed to expire at `deadline`. */
  add(hold: Hold, deadline: number): void {
    if (hold.parked) return;
    hold.parked = true;
    this.count += 1;
    if (hold.req.stream === true) this.streamCount += 1;
    this.addresses.add(hold.req.address ?? null);
    const { viewer } = hold.req;
    for (const sub of hold.subs) {
      let set = this.byEvent.get(sub.eventId);
      if (!set) this.byEvent.set(sub.eventId, (set = new Set()));
      set.add(sub);
      if (viewer === null) continue;
      let viewers = this.byViewer.get(sub.eventId);
      if (!viewers) this.byViewer.set(sub.eventId, (viewers = new Map()));
      const mine = viewers.get(viewer);
      if (mine === undefined) viewers.set(viewer, hold);
      else if (Array.isArray(mine)) mine.push(hold);
      else viewers.set(viewer, [mine, hold]);
    }
    this.timers.add(hold, deadline);
  }

  /** Takes a hold out of every index; idempotent. */
  remove(hold: Hold): void {
    if (!hold.parked) return;
    hold.parked = false;
    this.count -= 1;
    if (hold.req.stream === true) this.streamCount -= 1;
    this.addresses.remove(hold.req.address ?? null);
    this.timers.delete(hold);
    const { viewer } = hold.req;
    for (const sub of hold.subs) {
      const set = this.byEvent.get(sub.eventId);
      if (set) {
        set.delete(sub);
        if (set.size === 0) this.byEvent.delete(sub.eventId);
      }
      if (viewer === null) continue;
      const viewers = this.byViewer.get(sub.eventId);
      const mine = viewers?.get(viewer);
      if (viewers === undefined || mine === undefined) continue;
      if (mine === hold) viewers.delete(viewer);
      else if (Array.isArray(mine)) {
        const rest = mine.filter((h) => h !== hold);
        viewers.set(viewer, rest.length === 1 ? rest[0]! : rest);
      }
      if (viewers.size === 0) this.byViewer.delete(sub.eventId);
    }
  }

  /** Parked polls of the same viewer on any of this hold's events that arrived earlier. */
  olderThan(hold: Hold): readonly Hold[] {
    const { viewer } = hold.req;
    if (viewer === null) return NO_HOLDS;
    // Asked for every poll and almost always empty: allocate only when there is one.
    let older: Hold[] | null = null;
    for (const s of hold.req.subs) {
      for (const h of this.holdsOf(s.eventId, viewer)) {
        if (h.order < hold.order && sameViewer(h, hold) && !older?.includes(h)) (older ??= []).push(h);
      }
    }
    return older ?? NO_HOLDS;
  }

  /** True when a later poll of the same viewer is parked on one of this hold's events. */
  hasNewerThan(hold: Hold): boolean {
    const { viewer } = hold.req;
    if (viewer === null) return false;
    for (const s of hold.req.subs) {
      for (const h of this.holdsOf(s.eventId, viewer)) if (h.order > hold.order && sameViewer(h, hold)) return true;
    }
    return false;
  }

  /** Stops the timer wheel (parked holds no longer expire). */
  stop(): void {
    this.timers.stop();
  }
}

/**
 * Whether two polls are the same viewer for the one-poll rule. A token's sub is proven; a
 * `viewer` parameter is only claimed, and anyone can claim anyone's: so a claimed id counts as
 * the same viewer only from the same client address, and never as a token's sub.
 */
function sameViewer(a: Hold, b: Hold): boolean {
  const subA = a.req.principal?.sub ?? null;
  const subB = b.req.principal?.sub ?? null;
  if (subA !== null || subB !== null) return subA === subB;
  return (a.req.address ?? null) === (b.req.address ?? null);
}
