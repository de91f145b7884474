import type { Context, Next } from 'koa';
import { HubError } from '../model/errors.js';
import { state, wrapJsonp } from './request.js';

const CALLBACK = /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/;

/** The answer's JSON text, whatever form the body was left in. */
function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body) ?? '';
}

/**
 * JSONP for clients that can only load scripts: a GET with `callback=name` is answered
 * `/**\/name({"status": <real status>, ...});` as application/javascript, always HTTP 200,
 * errors included (so this runs outside the error middleware). The validated name is left on
 * ctx.state.jsonp for held polls, which answer outside Koa (lib/http/hold.ts). An invalid name
 * is a plain JSON 400 that never echoes it. `skip` names paths whose answers are not the API's.
 */
export function jsonpMiddleware(skip: (path: string) => boolean) {
  return async function jsonp(ctx: Context, next: Next): Promise<void> {
    const callback = ctx.query['callback'];
    // Not a string: given twice, which the query rule refuses as plain JSON like any other repeat.
    if (ctx.method !== 'GET' || typeof callback !== 'string' || skip(ctx.path)) return next();
    if (!CALLBACK.test(callback)) {
      const error = new HubError('invalid_callback', 'callback must match ^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$', { field: 'callback' });
      ctx.status = error.status;
      ctx.type = 'application/json';
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.body = JSON.stringify(error.toBody());
      return;
    }
    state(ctx).jsonp = callback;
    await next();
    // A held poll has left Koa and answers through its sink, wrapped there.
    if (ctx.respond === false) return;
    ctx.body = wrapJsonp(callback, ctx.status, bodyText(ctx.body));
    ctx.status = 200;
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('X-Content-Type-Options', 'nosniff');
  };
}
