import type { Context, Next } from 'koa';
import { HubError } from '../errors.js';

const CALLBACK = /^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$/;

/** The answer's JSON text, whatever form the body was left in. */
function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body) ?? '';
}

/**
 * `{"status": <status>, ...fields}` spliced from the serialised answer: poll answers are
 * made once as strings and shared by many waiters, so they are never parsed again here.
 */
export function withStatus(json: string, status: number): string {
  const head = `{"status":${status}`;
  const text = json.trim();
  if (text === '') return `${head}}`;
  if (!text.startsWith('{')) return `${head},"body":${text}}`;
  const rest = text.slice(1).trimStart();
  return rest.startsWith('}') ? `${head}}` : `${head},${rest}`;
}

/**
 * JSONP for clients that can only load scripts: a GET with `callback=name` is answered
 * `/**\/name({"status": <real status>, ...});` as application/javascript, always HTTP 200,
 * errors included (so this runs outside the error middleware). An invalid name is a plain
 * JSON 400 that never echoes it. `skip` names paths whose answers are not the API's JSON.
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
    await next();
    if (ctx.respond === false) return;
    const json = withStatus(bodyText(ctx.body), ctx.status);
    // U+2028 and U+2029 are legal in JSON but ended string literals in pre-2019 JavaScript.
    const safe = json.replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
    ctx.body = `/**/${callback}(${safe});`;
    ctx.status = 200;
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('X-Content-Type-Options', 'nosniff');
  };
}
