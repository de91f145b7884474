import type { DeltaKind } from './protocol.js';
import type { Store } from './store/types.js';
import type { LogEntry } from './model/records.js';

/**
 * What the hub, the poller and the store wrapper report as they work. lib/ops/metrics.ts
 * implements it with prom-client; the domain only sees these plain calls, so it stays free of
 * any metrics library and tests can pass a recorder.
 *
 * Every method is on a hot path: implementations must not allocate per call and must not throw.
 */

/**
 * How a poll request was answered. `delta`: it carried deltas; `reset`: a reset snapshot;
 * `ended`: nothing new but the event has ended; `snapshot`: a join (no cursor); `timeout`: the
 * hold ran out (or the token expired); `drain`: answered early because the server drains;
 * `error`: refused (unknown event, forbidden, bad cursor) or the store failed during the hold;
 * `superseded`: answered early because the same viewer polled the same event again;
 * `aborted`: the client went away first, so nothing was written.
 */
// Most telling first: a multi-event request answered at once counts as its first result in this order.
export const POLL_OUTCOMES = ['delta', 'reset', 'ended', 'snapshot', 'error', 'timeout', 'drain', 'superseded', 'aborted'] as const;
export type PollOutcome = (typeof POLL_OUTCOMES)[number];

/** Where a delta answer came from: a woken hold, or a poll that found news at once. */
export type DeliveryPath = 'wake' | 'immediate';

export interface HubObserver {
  /** `polls` requests were answered with this outcome (a group sharing the same bytes counts once per request). */
  answered(outcome: PollOutcome, polls: number): void;
  /** `entries` were written to each of `polls` requests at time `now` (latency is now − delta ts). */
  delivered(entries: readonly LogEntry[], polls: number, path: DeliveryPath, now: number): void;
  /** A poll answer counted `count` viewers on the event: presence, sampled where it is computed anyway. */
  viewers(eventId: string, count: number): void;
  /**
   * A held poll's client went away before its answer, `ageMs` after the poll arrived: a proxy
   * that cuts long requests shows up as many of these at one age (its timeout).
   */
  abandoned(ageMs: number): void;
}

/** The name of a Store method: the `op` label of store metrics (a closed set). */
export type StoreOp = keyof Store & string;

export interface StoreObserver {
  /** One store call took `seconds`; `failed` when it rejected with anything but a domain refusal. */
  operation(op: StoreOp, seconds: number, failed: boolean): void;
  /** The store accepted a delta of this kind. */
  appended(kind: DeltaKind): void;
}

/** An observer that ignores everything: the default when nobody watches. */
export const NOOP_OBSERVER: HubObserver & StoreObserver = Object.freeze({
  answered: () => undefined,
  delivered: () => undefined,
  viewers: () => undefined,
  abandoned: () => undefined,
  operation: () => undefined,
  appended: () => undefined,
});

