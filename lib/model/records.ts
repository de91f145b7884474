import type { DeltaKind, EventMeta, EventState } from '../protocol.js';

/**
 * The domain's value types: what an event, a stored delta and a minute of engagement are.
 * Stores keep them (lib/store/types.ts), the poll engine and the hub read them; they depend on
 * nothing but the wire types.
 */

/** What the store knows of one event, as of `head`. */
export interface EventRecord {
  id: string;
  /** Incarnation of the log: changes when the event is deleted and made again. */
  epoch: string;
  meta: EventMeta;
  state: EventState;
  /** seq of the newest delta (0 before the first). */
  head: number;
  /** The tag of the head position (lib/model/cursor.ts): EMPTY_TAG before the first delta. */
  tag: string;
  /** Highest score `version` accepted so far, or null. */
  lastVersion: number | null;
  createdAt: number;
}

/** One delta as stored: its JSON text is made once, at append, and sent as is. */
export interface LogEntry {
  seq: number;
  kind: DeltaKind;
  /** The delta's `type` (score and notice), used by the `types` filter. */
  type: string | undefined;
  /** The whole delta, serialised. */
  json: string;
  /** This position's tag: a cursor after this entry carries it. */
  tag: string;
  /** The tag of the position before it: a cursor there is continued by this entry only if it carries this tag. */
  prev: string;
  /** The delta's server timestamp (the `ts` inside `json`), for publish-to-answer latency. */
  ts: number;
}

/** Engagement counted for one event in one minute; merged into what the store already has. */
export interface StatsCounters {
  /** Highest viewer count sampled in the minute: merged by taking the maximum. */
  peakViewers: number;
  /** Reactions counted: merged by adding. */
  reactions: number;
  /** Chat messages posted: merged by adding. */
  chat: number;
  /** emoji → reactions with it: merged by adding, per emoji. */
  emoji: Record<string, number>;
}

/** One minute of an event's engagement as the store holds it. */
export interface StatsMinute extends StatsCounters {
  /** Minutes since the epoch: floor(ms / 60_000). */
  minute: number;
}

/** Distinct emoji a store keeps per event-minute; reactions beyond it count in `reactions` only. */
export const STATS_EMOJI_PER_MINUTE = 64;
/** Minutes of engagement a store keeps per event (the last hour). */
export const STATS_MINUTES = 60;

/** Whose writes an Idempotency-Key protects: a publisher's appends, or a signed-in viewer's chat. */
export type IdempotencyKind = 'publisher' | 'viewer';
