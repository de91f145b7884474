import type { ServerResponse } from 'node:http';
import type { Context, Next } from 'koa';
import { redactQuery, type Logger } from '../ops/log.js';
import type { Metrics } from '../ops/metrics.js';
import { randomId } from '../util/uuid.js';

/** An incoming request id we keep: 1–128 visible ASCII characters (no spaces, no control bytes). */
const SANE_ID = /^[\x21-\x7e]{1,128}$/;

/** Paths probed every few seconds: logged at debug while they answer 2xx. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** The request id of this request (set by the request-log middleware). */
export function requestId(ctx: Context): string {
  return (ctx.state as { requestId?: string }).requestId ?? '-';
}

/** Names the route template a request is for, also when it was refused before routing. */
export type RouteNamer = (ctx: Context) => string;

/** The id a request is known by: a sane incoming X-Request-Id, else a new one. */
export function requestIdFrom(incoming: string | undefined): string {
  return incoming !== undefined && SANE_ID.test(incoming) ? incoming : randomId();
}

/** What the request line says about a request; a few strings, never the request itself. */
export interface RequestLine {
  id: string;
  method: string;
  path: string;
  querystring: string;
  route: string;
  /** performance.now() when the request arrived. */
  start: number;
}

/**
 * When the response is done (written, or the client gone): logs one line and counts the answer.
 * Logged: id, method, path, query without token values, route, status, duration. Headers are
 * never logged, so Authorization cannot leak.
 */
export function logWhenClosed(res: ServerResponse, logger: Logger, metrics: Metrics, r: RequestLine, routine: RoutineLevel = 'info'): void {
  res.once('close', () => logClosed(res, logger, metrics, r, routine));
}

/** The level of an ordinary request line (LOG_REQUESTS); errors and 503s keep theirs. */
export type RoutineLevel = 'info' | 'debug';

/** logWhenClosed's work, for a caller that already listens for the response's close. */
export function logClosed(res: ServerResponse, logger: Logger, metrics: Metrics, r: RequestLine, routine: RoutineLevel = 'info'): void {
  // A client gone before anything was written got no answer: no status to count or claim.
  const answered = res.headersSent;
  const status = res.statusCode;
  if (answered) metrics.response(r.method, r.route, status);
  const level = !answered ? routine : status >= 500 && status !== 503 ? 'error' : status === 503 ? 'warn' : PROBES.has(r.path) && status < 300 ? 'debug' : routine;
  if (!logger.isLevelEnabled(level)) return;
  const line: Record<string, unknown> = { reqId: r.id, method: r.method, path: r.path, route: r.route, status: answered ? status : null, durationMs: performance.now() - r.start };
  if (r.querystring !== '') line['query'] = redactQuery(r.querystring);
  if (!res.writableFinished) line['aborted'] = true;
  logger[level](line, 'request');
}

/**
 * The outermost middleware: gives the request an id (requestIdFrom), echoes it, and logs and
 * counts the answer when it is done (logWhenClosed).
 */
export function requestLog(logger: Logger, metrics: Metrics, routeOf: RouteNamer, routine: RoutineLevel = 'info') {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const start = performance.now();
    const id = requestIdFrom(ctx.get('X-Request-Id'));
    (ctx.state as { requestId?: string }).requestId = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      // Listen only after the chain: a held poll has left Koa by then, and the listener keeps
      // a few strings, not the context, for the minutes the poll may be held.
      const { method, path, querystring, res } = ctx;
      logWhenClosed(res, logger, metrics, { id, method, path, querystring, route: routeOf(ctx), start }, routine);
    }
  };
}
