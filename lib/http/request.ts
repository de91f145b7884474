import type { Context } from 'koa';
import type { Config } from '../config.js';
import { clientAddress } from './client-address.js';
import type { Principal } from '../model/access.js';
import { invalid } from '../model/errors.js';
import { isObject } from '../model/json.js';
import type { PollSub } from '../poll/poller.js';

/** What the middleware leaves on ctx.state for the routes. */
export interface HoldlineState {
  /** The verified token's principal, or null for anonymous requests. */
  principal: Principal | null;
  /** The parsed, checked JSON body, or undefined when there was none. */
  body: unknown;
  /** The validated JSONP callback name of a GET, when the client asked for JSONP. */
  jsonp?: string;
}

/** Wraps a JSON object text as JSONP, cb({"status": N, ...fields}) behind an empty comment, without re-parsing it. */
export function wrapJsonp(callback: string, status: number, json: string): string {
  const text = json.trim();
  const inner = text.startsWith('{') ? text.slice(1).trimStart() : text;
  // An empty body or `{}` has no fields; anything not an object (none today) goes under "body".
  let rest = inner === '' || inner === '}' ? '}' : text.startsWith('{') ? `,${inner}` : `,"body":${inner}}`;
  // U+2028 and U+2029 are legal in JSON strings but ended string literals in pre-2019 JavaScript.
  if (/[\u2028\u2029]/.test(rest)) rest = rest.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return `/**/${callback}({"status":${status}${rest});`;
}

/** An event id, without anchors, for patterns that embed it (the poll fast path's path). */
export const EVENT_ID_PATTERN = '[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}';
const EVENT_ID = new RegExp(`^${EVENT_ID_PATTERN}$`);
const VIEWER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TIMEOUT = /^\d{1,6}(\.\d{1,3})?$/;

/** The `:eventId` path parameter, checked against the protocol's pattern. */
export function eventIdParam(ctx: Context): string {
  const id = (ctx.params as Record<string, string> | undefined)?.['eventId'] ?? '';
  if (!EVENT_ID.test(id)) throw invalid('eventId', 'eventId must match ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$');
  return id;
}

/** Checks an event id from anywhere else (multi-event subs), naming the field. */
export function checkEventId(id: string, field: string): string {
  if (!EVENT_ID.test(id)) throw invalid(field, `${field} must be an event id matching ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`);
  return id;
}

/** Refuses a query that gives a parameter more than once (400 naming it): which one would we believe? */
export function checkSingleValues(query: Record<string, string | string[] | undefined>): void {
  for (const [name, value] of Object.entries(query)) {
    if (Array.isArray(value)) throw invalid(name, `the parameter ${name} was given more than once`);
  }
}

/** One query value (repeats were refused by the query middleware). */
export function query(ctx: Context, name: string): string | undefined {
  const v = ctx.query[name];
  return typeof v === 'string' ? v : undefined;
}

/** The `viewer` parameter, or null. */
export function viewerParam(ctx: Context): string | null {
  return checkViewerParam(query(ctx, 'viewer'));
}

/** Checks a raw `viewer` query value: null when absent or empty. */
export function checkViewerParam(v: string | undefined): string | null {
  if (v === undefined || v === '') return null;
  if (!VIEWER_ID.test(v)) throw invalid('viewer', 'viewer must match ^[A-Za-z0-9_-]{1,64}$');
  return v;
}

/** Checks a viewer id given in a body field. */
export function checkViewerId(v: unknown, field: string): string {
  if (typeof v !== 'string' || !VIEWER_ID.test(v)) throw invalid(field, `${field} must match ^[A-Za-z0-9_-]{1,64}$`);
  return v;
}

/** The `timeout` parameter in seconds, or null for the default. */
export function timeoutParam(ctx: Context): number | null {
  return checkTimeoutParam(query(ctx, 'timeout'));
}

/** Checks a raw `timeout` query value in seconds: null for the default. */
export function checkTimeoutParam(v: string | undefined): number | null {
  if (v === undefined) return null;
  if (!TIMEOUT.test(v)) throw invalid('timeout', 'timeout must be a non-negative number of seconds');
  return Number(v);
}

/** The request's state, typed. */
export function state(ctx: Context): HoldlineState {
  return ctx.state as HoldlineState;
}

/** Writes a JSON body that is already a string. */
export function sendJson(ctx: Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = body;
}

/** Presence identity for rate limits and idempotency scopes: sub, else viewer, else the client address. */
export function identity(ctx: Context, config: Pick<Config, 'trustedProxies'>): string {
  return identityOf(state(ctx).principal, query(ctx, 'viewer'), clientAddress(ctx.req, config));
}

/** identity() from its parts: the token's sub, the raw `viewer` parameter, the client address. */
export function identityOf(principal: Principal | null, viewer: string | undefined | null, address: string): string {
  if (principal?.sub) return `sub:${principal.sub}`;
  if (viewer && VIEWER_ID.test(viewer)) return `viewer:${viewer}`;
  return `ip:${address}`;
}

/** Parses `subs` of a multi-event poll (query `m1@cursor,m2` or body `{m1: cursor, m2: null}`). */
export function parseSubs(raw: unknown, maxSubs: number): PollSub[] {
  const subs: PollSub[] = [];
  if (typeof raw === 'string') {
    if (raw === '') throw invalid('subs', 'subs must name at least one event');
    for (const part of raw.split(',')) {
      const at = part.indexOf('@');
      const eventId = checkEventId(at < 0 ? part : part.slice(0, at), 'subs');
      const cursor = at < 0 ? null : part.slice(at + 1);
      subs.push({ eventId, cursor: cursor === '' ? null : cursor });
    }
  } else if (isObject(raw)) {
    for (const [eventId, cursor] of Object.entries(raw)) {
      checkEventId(eventId, 'subs');
      if (cursor !== null && typeof cursor !== 'string') throw invalid(`subs.${eventId}`, 'a cursor must be a string or null');
      subs.push({ eventId, cursor: cursor === null || cursor === '' ? null : cursor });
    }
  } else {
    throw invalid('subs', 'subs is required: m1@<cursor>,m2 in the query or {"subs": {"m1": "<cursor>"}} in the body');
  }
  if (subs.length === 0) throw invalid('subs', 'subs must name at least one event');
  if (subs.length > maxSubs) throw invalid('subs', `subs may name at most ${maxSubs} events`);
  if (new Set(subs.map((s) => s.eventId)).size !== subs.length) throw invalid('subs', 'subs names an event twice');
  return subs;
}
