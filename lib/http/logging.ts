import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { redactQuery, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';

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

/**
 * The outermost middleware: gives the request an id (a sane incoming X-Request-Id, else a new
 * one), echoes it, and when the response is done (written, or the client gone) logs one line
 * and counts the answer. Logged: id, method, path, query without token values, route, status,
 * duration. Headers are never logged, so Authorization cannot leak.
 */
export function requestLog(logger: Logger, metrics: Metrics, routeOf: RouteNamer) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const start = process.hrtime.bigint();
    const incoming = ctx.get('X-Request-Id');
    const id = SANE_ID.test(incoming) ? incoming : randomUUID();
    (ctx.state as { requestId?: string }).requestId = id;
    ctx.set('X-Request-Id', id);
    try {
      await next();
    } finally {
      // Listen only after the chain: a held poll has left Koa by then, and the listener keeps
      // a few strings, not the context, for the minutes the poll may be held.
      const { method, path, querystring, res } = ctx;
      const route = routeOf(ctx);
      res.once('close', () => {
        const status = res.statusCode;
        metrics.response(method, route, status);
        const level = status >= 500 && status !== 503 ? 'error' : status === 503 ? 'warn' : PROBES.has(path) && status < 300 ? 'debug' : 'info';
        if (!logger.isLevelEnabled(level)) return;
        const line: Record<string, unknown> = { reqId: id, method, path, route, status, durationMs: Number(process.hrtime.bigint() - start) / 1e6 };
        if (querystring !== '') line['query'] = redactQuery(querystring);
        if (!res.writableFinished) line['aborted'] = true;
        logger[level](line, 'request');
      });
    }
  };
}
