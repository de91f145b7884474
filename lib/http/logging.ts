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
    ctx.res.once('close', () => {
      const status = ctx.res.statusCode;
      const aborted = !ctx.res.writableFinished;
      const route = routeOf(ctx);
      metrics.response(ctx.method, route, status);
      const line: Record<string, unknown> = {
        reqId: id,
        method: ctx.method,
        path: ctx.path,
        route,
        status,
        durationMs: Number(process.hrtime.bigint() - start) / 1e6,
      };
      if (ctx.querystring !== '') line['query'] = redactQuery(ctx.querystring);
      if (aborted) line['aborted'] = true;
      if (status >= 500 && status !== 503) logger.error(line, 'request');
      else if (status === 503) logger.warn(line, 'request');
      else if (PROBES.has(ctx.path) && status < 300) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    return next();
  };
}
