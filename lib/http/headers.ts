import type { ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Context, Next } from 'koa';

/** Nothing in an API answer may load, run or frame anything. */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * The demo pages (lib/http/handlers/static.ts): their own inline script and style and same-origin scripts
 * and polls, nothing from elsewhere, no framing. The API's policy would stop them from running.
 */
export const PAGE_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** One year; without includeSubDomains, which is the operator's call for their whole domain. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/**
 * Turns the JSON defaults into what a JSONP answer needs: it is loaded by a cross-origin
 * <script>, a no-cors request that CORP same-origin would block, and a CSP on a script resource
 * means nothing. Called by whatever writes a JSONP body, in Koa or from a held poll's sink.
 */
export function allowAsScript(res: ServerResponse): void {
  if (res.headersSent) return;
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.removeHeader('Content-Security-Policy');
}

// nosniff is among the security pairs, set first on every answer.
const STANDARD: readonly string[] = ['Referrer-Policy', 'no-referrer'];
const STANDARD_NO_STORE: readonly string[] = [...STANDARD, 'Cache-Control', 'no-store'];

/** The headers every answer carries besides the security ones: no-store on the API's resources. */
export function standardHeaderPairs(path: string): readonly string[] {
  return path === '/poll' || path === '/stream' || path === '/events' || path.startsWith('/events/') ? STANDARD_NO_STORE : STANDARD;
}

/** The header that advertises the server's holds on every answer (docs/PROTOCOL.md, "Holds"). */
export const HOLD_HEADER = 'Holdline-Hold';

/**
 * `Holdline-Hold: timeout=25, min=0, max=60`: the hold a poll without `timeout=` gets and the
 * range `timeout=` is taken in, in seconds as `timeout=` is given. On every answer, so a client
 * learns it from its first (the join) and can tell a proxy's error page (which lacks it) from ours.
 */
export function holdHeaderPairs(holdTimeoutMs: number, maxHoldMs: number): readonly string[] {
  return [HOLD_HEADER, `timeout=${holdTimeoutMs / 1000}, min=0, max=${maxHoldMs / 1000}`];
}

/** Security headers every API answer starts with, as flat name/value pairs (HSTS only over TLS). */
export function securityHeaderPairs(encrypted: boolean): readonly string[] {
  return encrypted ? SECURE_PAIRS_TLS : SECURE_PAIRS;
}

const SECURE_PAIRS: readonly string[] = [
  'X-Content-Type-Options', 'nosniff',
  'X-Frame-Options', 'DENY',
  'Content-Security-Policy', CONTENT_SECURITY_POLICY,
  'Cross-Origin-Resource-Policy', 'same-origin',
];
// HSTS is honoured only over HTTPS, and must not be sent over plain HTTP (RFC 6797 §7.2).
const SECURE_PAIRS_TLS: readonly string[] = [...SECURE_PAIRS, 'Strict-Transport-Security', STRICT_TRANSPORT_SECURITY];

/**
 * Security headers on every answer, set first so they are there however the answer is written
 * (errors, and held polls answered outside Koa later). JSON gets CORP same-origin: it blocks only
 * no-cors loads (a <script> or <img> pointed at the API, the Spectre-style read), never CORS
 * fetches, which CORS alone governs. JSONP answers and the embeddable scripts switch to
 * cross-origin through allowAsScript; HTML pages get a page policy instead.
 */
export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  const pairs = securityHeaderPairs((ctx.req.socket as Partial<TLSSocket>).encrypted === true);
  for (let i = 0; i < pairs.length; i += 2) ctx.set(pairs[i]!, pairs[i + 1]!);
  await next();
  const type = ctx.response.type;
  if (/javascript|ecmascript/i.test(type)) allowAsScript(ctx.res);
  else if (type === 'text/html' && !ctx.headerSent) {
    // A page is navigated to, not loaded as a resource: CORP does not apply to it.
    ctx.remove('Cross-Origin-Resource-Policy');
    ctx.set('Content-Security-Policy', PAGE_CONTENT_SECURITY_POLICY);
  }
}
