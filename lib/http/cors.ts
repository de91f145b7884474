import type { Context, Next } from 'koa';

const ALLOW_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';
const ALLOW_HEADERS = 'Authorization, Content-Type, Idempotency-Key, X-Request-Id';
export const EXPOSE_HEADERS = 'Holdline-Hold, Idempotent-Replayed, Retry-After, WWW-Authenticate, X-Request-Id';
/** How long a browser may cache a preflight (Chromium caps it at 2 h). */
const MAX_AGE_S = 7200;

/** The Access-Control-Allow-Origin value for a request's Origin, or null when it gets no CORS headers. */
export function originPolicy(origins: readonly string[]): (origin: string | undefined) => string | null {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (origin) => (origin === undefined || origin === '' || !(any || allowed.has(origin)) ? null : any ? '*' : origin);
}

/**
 * CORS for the configured origins (CORS_ORIGINS; `*` for any). An allowed origin gets its
 * own name echoed (or `*`), the exposed headers, and on a preflight the allowed methods and
 * headers; any other origin gets no CORS header at all, so the browser refuses it. Runs first,
 * so error answers carry the headers too. No credentials: holdline uses no cookies.
 */
export function corsMiddleware(origins: readonly string[]) {
  const allow = originPolicy(origins);
  return async function cors(ctx: Context, next: Next): Promise<void> {
    if (origins.length === 0) return next();
    // Whether CORS headers appear depends on Origin: caches must key on it.
    ctx.vary('Origin');
    const allowOrigin = allow(ctx.get('Origin'));
    const ok = allowOrigin !== null;
    const preflight = ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
    if (ok) ctx.set('Access-Control-Allow-Origin', allowOrigin);
    if (!preflight) {
      if (ok) ctx.set('Access-Control-Expose-Headers', EXPOSE_HEADERS);
      return next();
    }
    if (ok) {
      ctx.set('Access-Control-Allow-Methods', ALLOW_METHODS);
      ctx.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
      ctx.set('Access-Control-Max-Age', String(MAX_AGE_S));
    }
    ctx.status = 204;
  };
}
