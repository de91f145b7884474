import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { Config } from '../config.js';
import type { Auth } from '../trust/auth.js';
import { HubError } from '../model/errors.js';
import type { Hub } from '../hub.js';
import { createLogger, type Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import { eventRoutes } from './handlers/events.js';
import { healthRoutes } from './handlers/health.js';
import { pollRoutes } from './handlers/poll.js';
import { presenceRoutes } from './handlers/presence.js';
import { adminRoutes } from './handlers/admin.js';
import { chatRoutes } from './handlers/chat.js';
import { demoRoutes } from './handlers/demo.js';
import { reactionRoutes } from './handlers/reactions.js';
import { staticRoutes } from './handlers/static.js';
import { statsRoutes } from './handlers/stats.js';
import { streamRoutes } from './handlers/stream.js';
import { SseStreams } from './sse.js';
import { checkSingleValues } from './request.js';
import { authMiddleware, hideQueryToken } from './auth.js';
import { bodyMiddleware } from './body.js';
import { corsMiddleware } from './cors.js';
import type { RouteDeps } from './deps.js';
import { errorMiddleware, type ErrorLogger } from './errors.js';
import { createFastPoll } from './fast-poll.js';
import { createFastReactions } from './fast-reactions.js';
import { jsonpMiddleware } from './jsonp.js';
import { holdHeaderPairs, securityHeaders, standardHeaderPairs } from './headers.js';
import { urlLimits } from './limits.js';
import { requestLog } from './logging.js';

export interface AppDeps extends Omit<RouteDeps, 'log'> {
  auth: Auth;
  /** Request lines and 5xx causes. @default a silent logger */
  logger?: Logger;
}

/** Paths that keep answering while draining, and skip auth and body parsing. */
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json']);

/** The API's paths: the only answers JSONP may wrap (never a script, page or ops answer). */
export function isApiPath(path: string): boolean {
  return path === '/poll' || path === '/events' || path.startsWith('/events/');
}

/** Refuses a parameter given twice: which one would we believe? */
async function singleQueryValues(ctx: Context, next: Next): Promise<void> {
  checkSingleValues(ctx.query);
  return next();
}

/** Headers every answer carries: the standard ones for its path and the hold advertisement. */
function standardHeaders(config: Readonly<Config>) {
  const hold = holdHeaderPairs(config.holdTimeoutMs, config.maxHoldMs);
  return async function standardHeaders(ctx: Context, next: Next): Promise<void> {
    const pairs = standardHeaderPairs(ctx.path);
    for (let i = 0; i < pairs.length; i += 2) ctx.set(pairs[i]!, pairs[i + 1]!);
    ctx.set(hold[0]!, hold[1]!);
    return next();
  };
}

/** Every route the service answers, one router per resource (the OpenAPI parity test reads its stack). */
export function createRouter(deps: RouteDeps): Router {
  const router = new Router();
  healthRoutes(router, deps);
  eventRoutes(router, deps);
  pollRoutes(router, deps);
  streamRoutes(router, deps, deps.sse ?? new SseStreams(deps.config.streamHeartbeatMs));
  presenceRoutes(router, deps);
  chatRoutes(router, deps);
  reactionRoutes(router, deps);
  statsRoutes(router, deps);
  demoRoutes(router, deps);
  adminRoutes(router, deps);
  staticRoutes(router, deps);
  return router;
}

/** While draining, every answer closes its connection so keep-alive clients reconnect to another server. */
function closeWhileDraining(hub: Hub) {
  return async function connectionClose(ctx: Context, next: Next): Promise<void> {
    await next();
    if (hub.draining) ctx.set('Connection', 'close');
  };
}

/** Where 5xx causes are logged, with where they happened. */
function errorLogger(logger: Logger): ErrorLogger {
  // Only these fields: a fast path's `where` is its whole request line, and its raw query
  // string (viewer ids, cursors) is not for an error report; the request line logs it redacted.
  return (err, where) => logger.error({ err, method: where.method, path: where.path, reqId: where.reqId }, 'request failed');
}

/**
 * The server's request handler: plain polls (single- and multi-event GETs) and plain reactions take
 * the fast paths below Koa (lib/http/fast-poll.ts, lib/http/fast-reactions.ts), everything else,
 * refusals of them included, the Koa app.
 */
export function createHandler(deps: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = deps.logger ?? createLogger('silent');
  const koa = createApp(deps).callback();
  const fastDeps = { hub: deps.hub, config: deps.config, metrics: deps.metrics, auth: deps.auth, logger, log: errorLogger(logger) };
  const poll = createFastPoll(fastDeps);
  const reactions = createFastReactions(fastDeps);
  return (req, res) => {
    const toKoa = () => void koa(req, res);
    if (req.method === 'GET') return poll(req, res, toKoa);
    if (req.method === 'POST') return reactions(req, res, toKoa);
    toKoa();
  };
}

/** Builds the Koa app: middleware order, then the router. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const logger = deps.logger ?? createLogger('silent');
  const log = errorLogger(logger);
  const router = createRouter({ hub: deps.hub, config: deps.config, metrics: deps.metrics, log, demo: deps.demo ?? null, dashboard: deps.dashboard ?? null, ...(deps.sse ? { sse: deps.sse } : {}) });
  // A label must be a template (bounded), never the raw path; a request refused before routing
  // (draining, auth, body) is still named by the route it was for.
  const routeOf = (ctx: Context): string => {
    const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
    if (typeof matched === 'string') return matched;
    const layer = router.match(ctx.path, ctx.method).pathAndMethod.at(-1);
    return typeof layer?.path === 'string' ? layer.path : 'unmatched';
  };

  const drainGate = async (ctx: Context, next: Next): Promise<void> => {
    if (deps.hub.draining && !OPS_PATHS.has(ctx.path)) throw new HubError('draining', 'the server is draining', { retryAfterS: 1 });
    return next();
  };
  const auth = authMiddleware(deps.auth);
  const body = bodyMiddleware(deps.config);
  const skipForOps = (mw: (ctx: Context, next: Next) => Promise<void>) => (ctx: Context, next: Next) =>
    OPS_PATHS.has(ctx.path) ? next() : mw(ctx, next);

  // Outermost: sees the final status of every answer, errors, CORS and JSONP included.
  app.use(requestLog(logger, deps.metrics, routeOf, deps.config.logRequests));
  app.use(closeWhileDraining(deps.hub));
  // The query token leaves every URL before anything else can log one; security headers are
  // set before anything can answer (held polls answer outside Koa).
  app.use(hideQueryToken);
  app.use(securityHeaders);
  // CORS first and JSONP outside the error middleware: error answers get both.
  app.use(corsMiddleware(deps.config.corsOrigins));
  app.use(jsonpMiddleware((path) => !isApiPath(path)));
  app.use(
    errorMiddleware(log, (err, ctx) => {
      if (err.code === 'rate_limited') deps.metrics.rateLimited(routeOf(ctx));
    }),
  );
  app.use(standardHeaders(deps.config));
  app.use(urlLimits(deps.config));
  app.use(drainGate);
  app.use(singleQueryValues);
  app.use(skipForOps(auth));
  app.use(skipForOps(body));
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
