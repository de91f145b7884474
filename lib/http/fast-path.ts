import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Principal } from '../model/access.js';
import type { Auth } from '../trust/auth.js';
import type { Config } from '../config.js';
import type { Hub } from '../hub.js';
import type { Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import type { PollHandle } from '../poll/poller.js';
import { BEARER, MAX_TOKEN_CHARS, refusedTokens, SINGLE_HEADERS } from './auth.js';
import { EXPOSE_HEADERS, originPolicy } from './cors.js';
import type { ErrorLogger } from './errors.js';
import { holdHeaderPairs, securityHeaderPairs, standardHeaderPairs } from './headers.js';
import { cancelIfUnanswered, countRateLimited, ResponseSink } from './hold.js';
import { logClosed, requestIdFrom, type RequestLine } from './logging.js';
import { headerLines } from './raw-answer.js';

/**
 * What the routes below Koa share (lib/http/fast-poll.ts, lib/http/fast-reactions.ts): they take
 * only plain, valid requests of the kinds that are most of the traffic, hand everything else to
 * the Koa app untouched, and answer with the same headers, request id, log line and metrics.
 */

/** What a fast route needs: what the Koa app is built from. */
export interface FastDeps {
  hub: Hub;
  config: Readonly<Config>;
  metrics: Metrics;
  auth: Auth;
  logger: Logger;
  log: ErrorLogger;
}

/** Takes a request, or hands it to `fallback` (the Koa app) untouched. */
export type FastRoute = (req: IncomingMessage, res: ServerResponse, fallback: () => void) => void;

/**
 * Splits a query string that needs no decoding into the names `q` starts with (each undefined);
 * other names are ignored, as by Koa. Null when it needs decoding (an escape or a `+`), repeats
 * a name, or asks for what only the Koa chain does (JSONP, a token in the URL).
 */
export function plainQuery<Q extends Record<string, string | undefined>>(qs: string, q: Q): Q | null {
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
    if (Object.hasOwn(q, name)) {
      if (q[name] !== undefined) return null;
      (q as Record<string, string>)[name] = value;
      continue;
    }
    if (name === 'callback' || name.toLowerCase() === 'access_token') return null;
    others ??= [];
    if (others.includes(name)) return null;
    others.push(name);
  }
  return q;
}

/** True when one of the single-use headers arrived more than once. */
export function repeatsSingleHeader(req: IncomingMessage): boolean {
  // Rare, so only when one of them is present are the raw headers scanned.
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
 * Runs `go` with the request's principal: null without an Authorization header, the verified
 * token's otherwise. Anything but a plain bearer token, and a refused one, goes to `fallback`:
 * Koa words the 401 (from the refusal left in refusedTokens, not a second check). Nothing runs for a client gone while its token was checked.
 */
export function withPrincipal(auth: Auth, req: IncomingMessage, res: ServerResponse, fallback: () => void, go: (principal: Principal | null) => void): void {
  const authorization = req.headers.authorization;
  if (authorization === undefined || authorization === '') return go(null);
  const token = BEARER.exec(authorization)?.[1];
  if (token === undefined || token.length > MAX_TOKEN_CHARS) return fallback();
  auth.verify(token).then(
    (principal) => {
      if (!res.destroyed) go(principal);
    },
    (error: unknown) => {
      // Koa words the 401 from this refusal: one signature check per refused request, not two.
      refusedTokens.set(req, { token, error });
      fallback();
    },
  );
}

/** What the shared close listener needs of a request: its log line, and its hold if it holds a poll. */
export interface FastRequest {
  line: RequestLine & { reqId: string };
  handle: PollHandle | null;
}

const FAST = Symbol('holdline.fastRequest');
type FastResponse = ServerResponse & { [FAST]?: FastRequest };

/**
 * The answers of one route template below Koa: the security and standard headers every answer
 * carries (built once), the request's own (id, CORS), its sink, and one 'close' listener for
 * every request: the hold's cancel if the client left first, then the log line.
 */
export class FastReplies {
  private readonly plainHead: readonly string[];
  private readonly tlsHead: readonly string[];
  private readonly plainLines: string;
  private readonly tlsLines: string;
  private readonly allowOrigin: (origin: string | undefined) => string | null;
  private readonly cors: boolean;
  private readonly refusals: ReturnType<typeof countRateLimited>;
  private readonly closing: () => boolean;
  private readonly onClose: (this: ServerResponse) => void;

  constructor(
    private readonly deps: FastDeps,
    /** The route template, as the router, metrics and logs name it. */
    readonly route: string,
    /** A path of the route, for the headers that depend on the path. */
    samplePath: string,
  ) {
    const { config, metrics, logger, hub } = deps;
    const hold = holdHeaderPairs(config.holdTimeoutMs, config.maxHoldMs);
    const shared = (encrypted: boolean) => [...securityHeaderPairs(encrypted), ...standardHeaderPairs(samplePath), ...hold];
    this.plainHead = shared(false);
    this.tlsHead = shared(true);
    this.plainLines = headerLines(this.plainHead);
    this.tlsLines = headerLines(this.tlsHead);
    this.allowOrigin = originPolicy(config.corsOrigins);
    this.cors = config.corsOrigins.length > 0;
    this.refusals = countRateLimited(metrics, route);
    this.closing = () => hub.draining;
    const routine = config.logRequests;
    // Shared, so a request costs no closure and no once-wrapper for it.
    this.onClose = function onClose(this: ServerResponse): void {
      const fast = (this as FastResponse)[FAST];
      if (fast === undefined) return;
      if (fast.handle !== null) cancelIfUnanswered(this, fast.handle);
      logClosed(this, logger, metrics, fast.line, routine);
    };
  }

  /** The sink for a request's answer, with its request id, CORS headers and log line; set `handle` when it holds a poll. */
  open(req: IncomingMessage, res: ServerResponse, method: string, path: string, querystring: string, started: number): { sink: ResponseSink; fast: FastRequest } {
    const incoming = req.headers['x-request-id'];
    const id = requestIdFrom(typeof incoming === 'string' ? incoming : undefined);
    const own = ['X-Request-Id', id];
    if (this.cors) {
      own.push('Vary', 'Origin');
      const origin = this.allowOrigin(req.headers.origin);
      if (origin !== null) own.push('Access-Control-Allow-Origin', origin, 'Access-Control-Expose-Headers', EXPOSE_HEADERS);
    }
    const tls = (req.socket as Partial<TLSSocket>).encrypted === true;
    // One object is both the log line and where a refusal happened.
    const line = { id, reqId: id, method, path, querystring, route: this.route, start: started };
    const sink = new ResponseSink(res, tls ? this.tlsHead : this.plainHead, own, undefined, this.deps.log, line, this.closing, this.refusals, tls ? this.tlsLines : this.plainLines);
    const fast: FastRequest = { line, handle: null };
    (res as FastResponse)[FAST] = fast;
    res.on('close', this.onClose);
    return { sink, fast };
  }
}

/**
 * A request's path and query string when a fast route may look at it: the route's method, the
 * server not draining, a URL Koa would read alike (no fragment) within the URL limits. Null
 * when it is Koa's.
 */
export function fastUrl(req: IncomingMessage, method: string, deps: FastDeps): { path: string; querystring: string } | null {
  if (req.method !== method || deps.hub.draining) return null;
  const url = req.url ?? '';
  // A fragment is dropped by Koa's URL parsing; leave such rare URLs to it.
  if (url.includes('#')) return null;
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  const querystring = mark < 0 ? '' : url.slice(mark + 1);
  if (path.length > deps.config.maxPathBytes || querystring.length > deps.config.maxQueryBytes) return null;
  return { path, querystring };
}
