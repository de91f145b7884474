import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { HubError } from '../errors.js';
import { assertSafeJson, parseJsonBody } from '../json.js';
import { state } from './request.js';

export interface BodyLimits {
  maxBodyBytes: number;
  maxJsonDepth: number;
}

/** True when the request carries a body at all (a length above zero or chunked framing). */
function hasBody(ctx: Context): boolean {
  const length = ctx.request.length;
  if (length !== undefined) return length > 0;
  return ctx.get('Transfer-Encoding') !== '';
}

/**
 * Parses request bodies: application/json, or text/plain holding JSON (sendBeacon and
 * preflight-free CORS), within MAX_BODY_BYTES; checks depth and prototype keys; 415 otherwise.
 * Leaves the result on ctx.state.body (undefined when there was no body).
 */
export function bodyMiddleware(limits: BodyLimits) {
  const limit = `${limits.maxBodyBytes}b`;
  const options: bodyParser.Options & { onProtoPoisoning: 'ignore' } = {
    enableTypes: ['json', 'text'],
    jsonLimit: limit,
    textLimit: limit,
    strict: false,
    // co-body would refuse a "__proto__" key as a parse error (invalid_json, field "body"), and only
    // for application/json. Let it through as an own property instead: assertSafeJson below refuses
    // it, "constructor" and "prototype" alike for every content type, naming where the key was.
    onProtoPoisoning: 'ignore',
    onerror: (err) => {
      throw err;
    },
  };
  const parse = bodyParser(options);
  const depth = { maxDepth: limits.maxJsonDepth };
  return async function body(ctx: Context, next: Next): Promise<void> {
    const s = state(ctx);
    s.body = undefined;
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS' || !hasBody(ctx)) {
      return next();
    }
    if (!ctx.is('application/json', 'application/*+json', 'text/plain')) {
      throw new HubError('unsupported_media_type', 'send the body as application/json or text/plain holding JSON');
    }
    if (ctx.request.length !== undefined && ctx.request.length > limits.maxBodyBytes) {
      throw new HubError('payload_too_large', `the body may be at most ${limits.maxBodyBytes} bytes`);
    }
    await parse(ctx, async () => undefined);
    const raw = (ctx.request as { rawBody?: string }).rawBody;
    const parsed = ctx.request.body;
    // Decide by the media type, not by what came out: a JSON body may itself be a string ("x").
    if (ctx.is('text/plain')) {
      const text = typeof parsed === 'string' ? parsed : (raw ?? '');
      s.body = text.trim() === '' ? undefined : parseJsonBody(text, depth);
    } else {
      s.body = raw !== undefined && raw.trim() === '' ? undefined : parsed;
      if (s.body !== undefined) assertSafeJson(s.body, depth);
    }
    return next();
  };
}
