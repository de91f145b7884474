import { unescape } from 'node:querystring';
import type { IncomingMessage } from 'node:http';
import type { Context, Next } from 'koa';
import type { Auth } from '../trust/auth.js';
import { HubError, invalid } from '../model/errors.js';
import { state } from './request.js';

/** Headers that must not be sent twice: Node keeps only the first, so a second one is ambiguous. */
export const SINGLE_HEADERS: readonly string[] = ['authorization', 'idempotency-key', 'content-type', 'content-length'];

/** Longest token accepted: far above any real JWT, far below what would make verification costly. */
export const MAX_TOKEN_CHARS = 8192;

/** An Authorization header carrying a bearer token (RFC 6750 b64token), the token captured. */
export const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

/**
 * True for a raw query parameter name that is access_token however it is spelled on the wire
 * (`access%5Ftoken` reaches ctx.query as access_token too); case is ignored, to err on hiding.
 */
export function isTokenParam(rawName: string): boolean {
  return unescape(rawName.replace(/\+/g, ' ')).trim().toLowerCase() === 'access_token';
}

/** The URL with the value of any access_token parameter replaced, for anything that logs URLs. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const pairs = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return isTokenParam(eq < 0 ? pair : pair.slice(0, eq)) ? `${eq < 0 ? pair : pair.slice(0, eq)}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}

/**
 * Tokens a fast path (lib/http/fast-path.ts) verified and saw refused, by request: the Koa app
 * that then words the 401 reuses the refusal instead of paying for the signature check again.
 */
export const refusedTokens = new WeakMap<IncomingMessage, { token: string; error: unknown }>();

/**
 * Finds the bearer token (Authorization header or `access_token` query, never both), verifies
 * it, and leaves the Principal on ctx.state.principal; anonymous requests get null.
 */
export function authMiddleware(auth: Auth) {
  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    checkSingleHeaders(ctx.req.headersDistinct);
    const queryToken = queryTokens.has(ctx) ? queryTokens.get(ctx) : ctx.query['access_token'];
    const token = bearerToken(ctx.get('Authorization'), queryToken);
    const refused = token === null ? undefined : refusedTokens.get(ctx.req);
    if (refused !== undefined && refused.token === token) throw refused.error;
    state(ctx).principal = token === null ? null : await auth.verify(token);
    return next();
  };
}

/** Refuses a request that sent one of SINGLE_HEADERS twice (400 naming it). */
export function checkSingleHeaders(headers: Record<string, string[] | undefined>): void {
  for (const name of SINGLE_HEADERS) {
    if ((headers[name]?.length ?? 0) > 1) throw invalid(name, `the ${name} header may be sent only once`);
  }
}

/**
 * The request's bearer token, from the Authorization header ('' when absent) or an access_token
 * query value, never both; null when there is none. Throws the 400/401 every route answers.
 */
export function bearerToken(header: string, queryToken: string | string[] | undefined): string | null {
  if (typeof queryToken !== 'string' && queryToken !== undefined) throw invalid('access_token', 'access_token may be given only once');
  if (header && queryToken !== undefined) {
    throw invalid('access_token', 'send the token in the Authorization header or in access_token, not both');
  }
  let token: string | null = null;
  if (header) {
    const m = BEARER.exec(header);
    if (!m) throw new HubError('invalid_token', 'the Authorization header must be "Bearer <token>"');
    token = m[1]!;
  } else if (queryToken !== undefined) {
    token = queryToken;
  }
  if (token !== null && (token === '' || token.length > MAX_TOKEN_CHARS)) {
    throw new HubError('invalid_token', `the token is empty or longer than ${MAX_TOKEN_CHARS} characters`);
  }
  return token;
}

/** Query tokens taken out of the URL by hideQueryToken, for authMiddleware. */
const queryTokens = new WeakMap<Context, string | string[] | undefined>();

/**
 * The first middleware: takes the access_token value out of every URL that later middleware or
 * a request logger may print (the token is a bearer credential, and URLs end up in access logs,
 * traces and error reports), keeping it aside for authMiddleware.
 */
export async function hideQueryToken(ctx: Context, next: Next): Promise<void> {
  const value = ctx.query['access_token'];
  if (value !== undefined) {
    queryTokens.set(ctx, value);
    ctx.req.url = redactUrl(ctx.req.url ?? '');
    ctx.originalUrl = redactUrl(ctx.originalUrl);
    ctx.request.originalUrl = ctx.originalUrl;
  }
  return next();
}
