import type { Context, Next } from 'koa';
import type { Auth } from '../auth.js';
import { HubError, invalid } from '../errors.js';
import { state } from './request.js';

/** Headers that must not be sent twice: Node keeps only the first, so a second one is ambiguous. */
const SINGLE_HEADERS = ['authorization', 'idempotency-key', 'content-type', 'content-length'];

/**
 * Finds the bearer token (Authorization header or `access_token` query, never both), verifies
 * it, and leaves the Principal on ctx.state.principal; anonymous requests get null.
 */
export function authMiddleware(auth: Auth) {
  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    for (const name of SINGLE_HEADERS) {
      if ((ctx.req.headersDistinct[name]?.length ?? 0) > 1) throw invalid(name, `the ${name} header may be sent only once`);
    }
    const header = ctx.get('Authorization');
    const queryToken = ctx.query['access_token'];
    if (typeof queryToken !== 'string' && queryToken !== undefined) throw invalid('access_token', 'access_token may be given only once');
    if (header && queryToken !== undefined) {
      throw invalid('access_token', 'send the token in the Authorization header or in access_token, not both');
    }
    let token: string | null = null;
    if (header) {
      const m = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
      if (!m) throw new HubError('invalid_token', 'the Authorization header must be "Bearer <token>"');
      token = m[1]!;
    } else if (queryToken !== undefined) {
      if (queryToken === '' || queryToken.length > 8192) throw new HubError('invalid_token', 'access_token is empty or too long');
      token = queryToken;
    }
    state(ctx).principal = token === null ? null : await auth.verify(token);
    return next();
  };
}
