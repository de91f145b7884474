import { parseFilter } from '../poll/filter.js';
import type { PollOptions } from '../hub.js';
import type { PollSub } from '../poll/poller.js';
import { clientAddress } from './client-address.js';
import { FastReplies, fastUrl, plainQuery, repeatsSingleHeader, withPrincipal, type FastDeps, type FastRoute } from './fast-path.js';
import { checkTimeoutParam, checkViewerParam, EVENT_ID_PATTERN, parseSubs } from './request.js';

/** The poll routes' templates, as the router, metrics and logs name them. */
export const POLL_ROUTE = '/events/:eventId/poll';
export const MULTI_POLL_ROUTE = '/poll';

// The path exactly as the router's own rule for GET /events/:eventId/poll accepts a valid id;
// any other spelling (case, trailing slash, escapes) goes through Koa, which decides.
const PATH = new RegExp(`^/events/(${EVENT_ID_PATTERN})/poll$`);

/**
 * GET /events/:eventId/poll and GET /poll below Koa: polls are most of the traffic, and Koa's
 * context, middleware promises and header map were most of their cost. It takes only a plain,
 * valid poll (no JSONP, no token in the URL, nothing to decode, not draining) and hands
 * everything else to the Koa app untouched, so every refusal is still decided and worded in one
 * place. What it answers carries the same headers, request id, log line and metrics as the Koa
 * route would.
 */
export function createFastPoll(deps: FastDeps): FastRoute {
  const { hub, config, auth } = deps;
  const single = new FastReplies(deps, POLL_ROUTE, '/events/x/poll');
  const multi = new FastReplies(deps, MULTI_POLL_ROUTE, MULTI_POLL_ROUTE);

  return function fastPoll(req, res, fallback) {
    const url = fastUrl(req, 'GET', deps);
    if (url === null) return fallback();
    const { path, querystring } = url;
    // GET /events/:eventId/poll, or GET /poll?subs= (several events in one poll).
    const match = PATH.exec(path);
    if (match === null && path !== MULTI_POLL_ROUTE) return fallback();
    const q = plainQuery(querystring, { cursor: undefined, subs: undefined, viewer: undefined, timeout: undefined, kinds: undefined, types: undefined });
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
        address: clientAddress(req, config),
      };
    } catch {
      // Koa refuses it with the field named.
      return fallback();
    }
    const cursor = q.cursor === undefined || q.cursor === '' ? null : q.cursor;
    // Timed from here, as the Koa request log times from its first middleware (token check included).
    const started = performance.now();
    withPrincipal(auth, req, res, fallback, (principal) => {
      options.principal = principal;
      const { sink, fast } = (subs ? multi : single).open(req, res, 'GET', path, querystring, started);
      fast.handle = subs ? hub.holdMany(subs, options, sink) : hub.hold(eventId!, cursor, options, sink);
    });
  };
}
