import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Auth } from '../auth.js';
import type { Config } from '../config.js';
import { parseFilter } from '../filter.js';
import type { Hub, PollOptions } from '../hub.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { PollHandle, PollSub } from '../poller.js';
import { EXPOSE_HEADERS, originPolicy } from './cors.js';
import type { ErrorLogger } from './errors.js';
import { securityHeaderPairs, standardHeaderPairs } from './headers.js';
import { cancelIfUnanswered, countRateLimited, ResponseSink } from './hold.js';
import { headerLines } from './raw-answer.js';
import { logClosed, requestIdFrom, type RequestLine } from './logging.js';
import { BEARER, MAX_TOKEN_CHARS, SINGLE_HEADERS } from './auth.js';
import { checkTimeoutParam, checkViewerParam, EVENT_ID_PATTERN, parseSubs } from './request.js';

/** What the fast path needs: what the Koa app is built from. */
export interface FastPollDeps {
  hub: Hub;
  config: Readonly<Config>;
  metrics: Metrics;
  auth: Auth;
  logger: Logger;
  log: ErrorLogger;
}

/** Takes a request, or hands it to `fallback` (the Koa app) untouched. */
export type FastPoll = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/** What onClose needs of a held poll, kept on its response. */
const HELD = Symbol('holdline.heldPoll');
type HeldResponse = ServerResponse & { [HELD]?: { handle: PollHandle; line: RequestLine } };

/** The poll routes' templates, as the router, metrics and logs name them. */
export const POLL_ROUTE = '/events/:eventId/poll';
export const MULTI_POLL_ROUTE = '/poll';

// The path exactly as the router's own rule for GET /events/:eventId/poll accepts a valid id;
// any other spelling (case, trailing slash, escapes) goes through Koa, which decides.
const PATH = new RegExp(`^/events/(${EVENT_ID_PATTERN})/poll$`);

/** The parameters a poll reads; anything else in the query is ignored, as by Koa. */
interface PollQuery {
  cursor: string | undefined;
  subs: string | undefined;
  viewer: string | undefined;
  timeout: string | undefined;
  kinds: string | undefined;
  types: string | undefined;
}

/**
 * Splits a query string that needs no decoding; null when it needs any (an escape or a `+`),
 * repeats a name, or asks for what only the Koa chain does (JSONP, a token in the URL).
 */
function plainQuery(qs: string): PollQuery | null {
  const q: PollQuery = { cursor: undefined, subs: undefined, viewer: undefined, timeout: undefined, kinds: undefined, types: undefined };
  if (qs === '') return q;
  if (qs.includes('%') || qs.includes('+')) return null;
  let others: string[] | null = null;
  for (let from = 0; from <= qs.length; ) {
    let to = qs.indexOf('&', from);
    if (to < 0) to = qs.length;
    if (to === from) {
      from = to + 1;
      continue;
    }
    const eq = qs.indexOf('=', from);
    const name = eq < 0 || eq > to ? qs.slice(from, to) : qs.slice(from, eq);
    const value = eq < 0 || eq > to ? '' : qs.slice(eq + 1, to);
    from = to + 1;
    switch (name) {
      case 'cursor':
      case 'subs':
      case 'viewer':
      case 'timeout':
      case 'kinds':
      case 'types':
        if (q[name] !== undefined) return null;
        q[name] = value;
        break;
      default:
        if (name === 'callback' || name.toLowerCase() === 'access_token') return null;
        others ??= [];
        if (others.includes(name)) return null;
        others.push(name);
    }
  }
  return q;
}

/** True when one of the single-use headers arrived more than once. */
function repeatsSingleHeader(req: IncomingMessage): boolean {
  // Rare on a GET, so only when one of them is present are the raw headers scanned.
  const h = req.headers;
  if (h['authorization'] === undefined && h['idempotency-key'] === undefined && h['content-type'] === undefined && h['content-length'] === undefined) {
    return false;
  }
  const seen = new Set<string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!SINGLE_HEADERS.includes(name)) continue;
    if (seen.has(name)) return true;
    seen.add(name);
  }
  return false;
}

/**
 * GET /events/:eventId/poll and GET /poll below Koa: polls are most of the traffic, and Koa's
 * context, middleware promises and header map were most of their cost. It takes only a plain,
 * valid poll (no JSONP, no token in the URL, nothing to decode, not draining) and hands
 * everything else to the Koa app untouched, so every refusal is still decided and worded in one
 * place. What it answers carries the same headers, request id, log line and metrics as the Koa
 * route would.
 */
export function createFastPoll(deps: FastPollDeps): FastPoll {
  const { hub, config, metrics, auth, logger, log } = deps;
  const allowOrigin = originPolicy(config.corsOrigins);
  const cors = config.corsOrigins.length > 0;
  const closing = () => hub.draining;
  const singleRefusals = countRateLimited(metrics, POLL_ROUTE);
  const multiRefusals = countRateLimited(metrics, MULTI_POLL_ROUTE);
  // The headers every answer shares, built once: security, then the poll route's standard ones.
  const shared = (encrypted: boolean) => [...securityHeaderPairs(encrypted), ...standardHeaderPairs(POLL_ROUTE)];
  const plainHead = shared(false);
  const tlsHead = shared(true);
  const plainLines = headerLines(plainHead);
  const tlsLines = headerLines(tlsHead);

  // One listener for every poll, for both jobs: the hold's cancel if the client left first, then
  // the log line. Shared, so a poll costs no closure and no once-wrapper for it.
  function onClose(this: ServerResponse): void {
    const held = (this as HeldResponse)[HELD];
    if (held === undefined) return;
    cancelIfUnanswered(this, held.handle);
    logClosed(this, logger, metrics, held.line);
  }

  return function fastPoll(req, res, fallback) {
    if (req.method !== 'GET' || hub.draining) return fallback();
    const url = req.url ?? '';
    // A fragment is dropped by Koa's URL parsing; leave such rare URLs to it.
    if (url.includes('#')) return fallback();
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const querystring = mark < 0 ? '' : url.slice(mark + 1);
    if (path.length > config.maxPathBytes || querystring.length > config.maxQueryBytes) return fallback();
    // GET /events/:eventId/poll, or GET /poll?subs= (several events in one poll).
    const match = PATH.exec(path);
    if (match === null && path !== MULTI_POLL_ROUTE) return fallback();
    const q = plainQuery(querystring);
    if (q === null || repeatsSingleHeader(req)) return fallback();
    const eventId = match?.[1];
    let subs: PollSub[] | null = null;
    let options: PollOptions;
    try {
      if (eventId === undefined) subs = parseSubs(q.subs ?? null, config.maxSubs);
      options = {
        viewer: checkViewerParam(q.viewer),
        holdMs: hub.holdMs(checkTimeoutParam(q.timeout)),
        filter: parseFilter(q.kinds, q.types),
        principal: null,
        address: req.socket.remoteAddress ?? '',
      };
    } catch {
      // Koa refuses it with the field named.
      return fallback();
    }
    const cursor = q.cursor === undefined || q.cursor === '' ? null : q.cursor;
    // Timed from here, as the Koa request log times from its first middleware (token check included).
    const started = performance.now();
    const route = subs ? MULTI_POLL_ROUTE : POLL_ROUTE;

    const start = (): void => {
      const incoming = req.headers['x-request-id'];
      const id = requestIdFrom(typeof incoming === 'string' ? incoming : undefined);
      const own = ['X-Request-Id', id];
      if (cors) {
        own.push('Vary', 'Origin');
        const origin = allowOrigin(req.headers.origin);
        if (origin !== null) own.push('Access-Control-Allow-Origin', origin, 'Access-Control-Expose-Headers', EXPOSE_HEADERS);
      }
      const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
      // One object is both the log line and where a refusal happened.
      const line: RequestLine & { reqId: string } = { id, reqId: id, method: 'GET', path, querystring, route, start: started };
      const sink = new ResponseSink(res, tls ? tlsHead : plainHead, own, undefined, log, line, closing, subs ? multiRefusals : singleRefusals, tls ? tlsLines : plainLines);
      const handle = subs ? hub.holdMany(subs, options, sink) : hub.hold(eventId!, cursor, options, sink);
      (res as HeldResponse)[HELD] = { handle, line };
      res.on('close', onClose);
    };

    const authorization = req.headers.authorization;
    if (authorization === undefined || authorization === '') return start();
    const bearer = BEARER.exec(authorization);
    const token = bearer?.[1];
    if (token === undefined || token.length > MAX_TOKEN_CHARS) return fallback();
    auth.verify(token).then(
      (principal) => {
        // Gone while the token was checked: nothing to hold for.
        if (res.destroyed) return;
        options.principal = principal;
        start();
      },
      // A refused token is answered by Koa, which checks it again and words the 401.
      () => fallback(),
    );
  };
}
