import bodyParser from 'koa-bodyparser';
import type { Context, Next } from 'koa';
import { HubError } from '../model/errors.js';
import { parseJsonBody, type JsonLimits } from '../model/json.js';
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

/** The media types a body may come as: JSON, or text/plain holding JSON (sendBeacon, preflight-free CORS). */
export const BODY_TYPES = ['application/json', 'application/*+json', 'text/plain'] as const;

/** Only JSON's own whitespace: a body of nothing else holds no JSON value, so it counts as none. */
const BLANK = /^[ \t\r\n]*$/;

/**
 * A body's decoded text as the JSON it holds, whichever of BODY_TYPES it came as: undefined when
 * blank; depth and prototype keys are checked. The one interpretation of a body, for Koa's chain
 * and for the fast paths (the decoder before it drops one leading byte order mark: decodeBody).
 */
export function parseBodyText(text: string, limits: JsonLimits): unknown {
  return BLANK.test(text) ? undefined : parseJsonBody(text, limits);
}

/** A UTF-8 body's bytes as text, as the body reader decodes them: one leading byte order mark dropped. */
export function decodeBody(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Parses request bodies of BODY_TYPES within MAX_BODY_BYTES (415 for any other type): the
 * reader (koa-bodyparser: limits, charsets, compressed bodies) takes all three as text, and
 * parseBodyText reads the JSON out of it. Leaves the result on ctx.state.body (undefined when
 * there was no body).
 */
export function bodyMiddleware(limits: BodyLimits) {
  const limit = `${limits.maxBodyBytes}b`;
  const parse = bodyParser({
    enableTypes: ['text'],
    extendTypes: { text: BODY_TYPES.filter((t) => t !== 'text/plain') },
    textLimit: limit,
    onerror: (err) => {
      throw err;
    },
  });
  const depth = { maxDepth: limits.maxJsonDepth };
  return async function body(ctx: Context, next: Next): Promise<void> {
    const s = state(ctx);
    s.body = undefined;
    if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS' || !hasBody(ctx)) {
      return next();
    }
    if (!ctx.is(...BODY_TYPES)) {
      throw new HubError('unsupported_media_type', 'send the body as application/json or text/plain holding JSON');
    }
    if (ctx.request.length !== undefined && ctx.request.length > limits.maxBodyBytes) {
      throw new HubError('payload_too_large', `the body may be at most ${limits.maxBodyBytes} bytes`);
    }
    await parse(ctx, async () => undefined);
    const raw = (ctx.request as { rawBody?: string }).rawBody;
    const text = raw ?? (typeof ctx.request.body === 'string' ? ctx.request.body : '');
    s.body = parseBodyText(text, depth);
    return next();
  };
}
