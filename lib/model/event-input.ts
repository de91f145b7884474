import { invalid } from './errors.js';
import { codePointLength, isObject } from './json.js';
import {
  EVENT_STATES,
  type DeltaDraft,
  type EventMeta,
  type EventState,
  type JsonObject,
  type Visibility,
} from '../protocol.js';

/**
 * Validation of what publishers send: each function takes an untrusted parsed body (already
 * checked for depth and prototype keys by lib/model/json.ts) and returns a typed value or throws
 * 400 invalid_request naming the field. Nothing here touches a store.
 */

const TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;
const RESERVED_META = new Set(['title', 'sport', 'visibility']);

/** Throws unless the body is a JSON object; returns it typed. */
export function requireObject(body: unknown, field = 'body'): Record<string, unknown> {
  if (!isObject(body)) throw invalid(field, `${field} must be a JSON object`);
  return body;
}

/** Refuses fields the route does not know, so typos do not pass silently. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw invalid(key, `unknown field "${key}"`);
}

function optionalText(body: Record<string, unknown>, field: string, min: number, max: number): string | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(field, `${field} must be a string`);
  const n = codePointLength(v);
  if (n < min || n > max) throw invalid(field, `${field} must be ${min}–${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(v) && field !== 'body') throw invalid(field, `${field} must not contain control characters`);
  if (/[\u0000]/.test(v)) throw invalid(field, `${field} must not contain NUL`);
  if (/[\ud800-\udfff]/u.test(v)) throw invalid(field, `${field} must not contain lone surrogates`);
  return v;
}

function optionalType(body: Record<string, unknown>): string | undefined {
  const v = body['type'];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !TYPE.test(v)) throw invalid('type', 'type must be a name of 1–64 of [A-Za-z0-9_.:-]');
  return v;
}

/** The fields a PUT may carry, normalised. */
export interface EventInput {
  title?: string;
  sport?: string;
  visibility?: Visibility;
  state?: EventState;
  meta?: JsonObject;
}

/** Validates a PUT /events/:id body. */
export function parseEventInput(raw: unknown): EventInput {
  const body = requireObject(raw ?? {});
  onlyFields(body, ['title', 'sport', 'visibility', 'state', 'meta']);
  const input: EventInput = {};
  const title = optionalText(body, 'title', 1, 200);
  if (title !== undefined) input.title = title;
  const sport = body['sport'];
  if (sport !== undefined) {
    if (typeof sport !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(sport)) {
      throw invalid('sport', 'sport must be a lowercase name of 1–32 of [a-z0-9_-]');
    }
    input.sport = sport;
  }
  const visibility = body['visibility'];
  if (visibility !== undefined) {
    if (visibility !== 'public' && visibility !== 'private') throw invalid('visibility', 'visibility must be "public" or "private"');
    input.visibility = visibility;
  }
  const state = body['state'];
  if (state !== undefined) {
    if (!(EVENT_STATES as readonly unknown[]).includes(state)) {
      throw invalid('state', `state must be one of ${EVENT_STATES.join(', ')}`);
    }
    input.state = state as EventState;
  }
  const meta = body['meta'];
  if (meta !== undefined) {
    if (!isObject(meta)) throw invalid('meta', 'meta must be a JSON object');
    for (const key of Object.keys(meta)) {
      if (RESERVED_META.has(key)) throw invalid(`meta.${key}`, `set ${key} at the top level, not inside meta`);
    }
    if (Buffer.byteLength(JSON.stringify(meta)) > 4096) throw invalid('meta', 'meta must serialise to at most 4096 bytes');
    input.meta = meta as JsonObject;
  }
  return input;
}

/** The event's meta after a PUT: given fields replace, absent ones keep their value. */
export function mergeMeta(id: string, current: EventMeta | null, input: EventInput): EventMeta {
  const extra: JsonObject = {};
  const source: Record<string, unknown> = input.meta ?? current ?? {};
  for (const [k, v] of Object.entries(source)) if (!RESERVED_META.has(k)) extra[k] = v as JsonObject[string];
  return {
    ...extra,
    title: input.title ?? current?.title ?? id,
    sport: input.sport ?? current?.sport ?? 'other',
    visibility: input.visibility ?? current?.visibility ?? 'public',
  };
}

/** A score draft and the version to check, from POST /events/:id/scores. */
export function parseScore(raw: unknown): { draft: DeltaDraft; version: number | undefined } {
  const body = requireObject(raw);
  onlyFields(body, ['op', 'type', 'version', 'data']);
  const op = body['op'] ?? 'set';
  if (op !== 'set' && op !== 'patch') throw invalid('op', 'op must be "set" or "patch"');
  const data = body['data'];
  if (data === undefined) throw invalid('data', 'data is required');
  if (!isObject(data)) throw invalid('data', 'data must be a JSON object');
  const version = body['version'];
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0)) {
    throw invalid('version', 'version must be an integer ≥ 0');
  }
  const type = optionalType(body);
  const draft: DeltaDraft = { kind: 'score', op, data: data as JsonObject };
  if (type !== undefined) draft.type = type;
  if (version !== undefined) draft.version = version as number;
  return { draft, version: version as number | undefined };
}

/** A notice draft from POST /events/:id/notices. */
export function parseNotice(raw: unknown): DeltaDraft {
  const body = requireObject(raw);
  onlyFields(body, ['type', 'title', 'body', 'level']);
  const title = optionalText(body, 'title', 1, 200);
  if (title === undefined) throw invalid('title', 'title is required');
  const text = optionalText(body, 'body', 1, 2000);
  const level = body['level'];
  if (level !== undefined && level !== 'info' && level !== 'important') {
    throw invalid('level', 'level must be "info" or "important"');
  }
  const data: { title: string; body?: string; level?: 'info' | 'important' } = { title };
  if (text !== undefined) data.body = text;
  if (level !== undefined) data.level = level;
  const type = optionalType(body);
  return type === undefined ? { kind: 'notice', data } : { kind: 'notice', type, data };
}

/** Refuses any body on routes that take none (`/end`, `/join` beyond `{id}`). */
export function requireEmpty(raw: unknown): void {
  if (raw === undefined || raw === null || raw === '') return;
  if (isObject(raw) && Object.keys(raw).length === 0) return;
  throw invalid('body', 'this request takes an empty body');
}
