/**
 * The wire types of holdline's HTTP protocol, version 1 (docs/PROTOCOL.md).
 * Shared by the server, the Node client, the simulator and the tests; no runtime code
 * beyond the constants that name protocol values.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const DELTA_KINDS = ['score', 'notice', 'chat', 'reactions', 'status'] as const;
export type DeltaKind = (typeof DELTA_KINDS)[number];

/** The server's own private event, which the live dashboard follows (lib/ops/dashboard.ts): admins alone write it. */
export const OPS_EVENT = 'holdline-ops';

export const EVENT_STATES = ['scheduled', 'live', 'ended'] as const;
export type EventState = (typeof EVENT_STATES)[number];

export type Visibility = 'public' | 'private';

/** The event's description as last PUT: title, sport, visibility and its own meta fields. */
export interface EventMeta {
  title: string;
  sport: string;
  visibility: Visibility;
  [field: string]: JsonValue;
}

interface DeltaBase {
  seq: number;
  ts: number;
}

export interface ScoreDelta extends DeltaBase {
  kind: 'score';
  op: 'set' | 'patch';
  type?: string;
  version?: number;
  data: JsonObject;
}

export interface NoticeDelta extends DeltaBase {
  kind: 'notice';
  type?: string;
  data: { title: string; body?: string; level?: 'info' | 'important' };
}

export interface ChatUser {
  id: string;
  name?: string;
}

export interface ChatDelta extends DeltaBase {
  kind: 'chat';
  op?: 'delete';
  id: string;
  user?: ChatUser;
  text?: string;
}

export interface ReactionSample {
  user: string | null;
  /** True when `user` is a verified token's sub; false for a viewer id anyone may claim (or none). */
  verified: boolean;
  emoji: string;
  comment: string;
}

export interface ReactionsDelta extends DeltaBase {
  kind: 'reactions';
  counts: Record<string, number>;
  samples: ReactionSample[];
  window: { from: number; to: number };
}

export interface StatusDelta extends DeltaBase {
  kind: 'status';
  data: { state: EventState; meta?: EventMeta };
}

export type Delta = ScoreDelta | NoticeDelta | ChatDelta | ReactionsDelta | StatusDelta;

/** What a delta is before the store gives it a seq and a timestamp. */
export type DeltaDraft = Delta extends infer D ? (D extends Delta ? Omit<D, 'seq' | 'ts'> : never) : never;

export interface ChatMessage {
  id: string;
  user: ChatUser;
  text: string;
  ts: number;
  seq: number;
}

export interface Snapshot {
  seq: number;
  meta: EventMeta;
  state: EventState;
  score: JsonObject;
  chat: ChatMessage[];
  /** The REACTION_TOTALS_MAX largest totals; `other` sums the rest once there are more names. */
  reactions: { totals: Record<string, number>; other?: number };
}

export interface Advice {
  /** The hold a poll without `timeout=` gets. */
  timeoutMs: number;
  /** The longest hold `timeout=` is taken up to (join answers only; also the Holdline-Hold header). */
  maxTimeoutMs?: number;
  retryMs: number;
}

/** One poll answer (200). */
export interface PollAnswer {
  event: string;
  cursor: string;
  deltas: Delta[];
  more: boolean;
  viewers: number;
  reset: boolean;
  ended: boolean;
  snapshot?: Snapshot;
  missed?: number | null;
  advice?: Advice;
  viewerId?: string;
}

/** One entry of a multi-event poll's `results` that could not be answered as a poll. */
export interface PollErrorEntry {
  event: string;
  status: number;
  error: ErrorBody['error'];
}

export interface MultiPollAnswer {
  results: Array<PollAnswer | PollErrorEntry>;
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export interface EventSummary {
  id: string;
  meta: EventMeta;
  state: EventState;
  viewers: number;
}

export interface EventDetail extends EventSummary {
  cursor: string;
  snapshot: Snapshot;
}

export interface AppendAnswer {
  seq: number;
  cursor: string;
}
