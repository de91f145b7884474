import type { Context, Next } from 'koa';
import { HubError, isHubError, type ErrorCode } from '../model/errors.js';

/** Logs what the client must not see (5xx causes), with where it happened and the request id. */
export type ErrorLogger = (err: unknown, where: { method: string; path: string; reqId?: string }) => void;

/** Told of every refusal as it is mapped (the metrics count 429s here). */
export type RefusalObserver = (err: HubError, ctx: Context) => void;

/** Koa and co-body errors carry a status and sometimes a type; map the ones we can name. */
function fromHttpError(err: { status?: number; statusCode?: number; type?: string; code?: string; message?: string; headers?: Record<string, string> }): HubError {
  // A compressed body that does not inflate is the client's error (zlib's codes are Z_*,
  // Brotli's ERR__*, as node:zlib names the decoder's own error).
  if (typeof err.code === 'string' && (err.code.startsWith('Z_') || err.code.startsWith('ERR__'))) {
    return new HubError('invalid_request', 'the body could not be decompressed as its Content-Encoding says', { field: 'body' });
  }
  const status = err.status ?? err.statusCode ?? 500;
  if (err.type === 'entity.too.large' || status === 413) return new HubError('payload_too_large', 'the request body is too large');
  if (err.type === 'encoding.unsupported' || status === 415) return new HubError('unsupported_media_type', 'unsupported content encoding or type');
  if (status === 400) return new HubError('invalid_json', `body is not valid JSON: ${err.message ?? 'parse error'}`, { field: 'body' });
  if (status === 405) return new HubError('method_not_allowed', 'method not allowed', { headers: err.headers ?? {} });
  if (status === 404) return new HubError('not_found', 'no such resource');
  if (status === 431) return new HubError('headers_too_large', 'request headers are too large');
  return new HubError('internal', 'internal error', { cause: err });
}

/** The WWW-Authenticate challenge RFC 6750 asks for on 401s. */
function challenge(code: ErrorCode, message: string): string {
  if (code === 'invalid_token') return `Bearer realm="holdline", error="invalid_token", error_description="${message.replace(/["\\]/g, '')}"`;
  return 'Bearer realm="holdline"';
}

/** Whether a refusal is a fault the operator must see in the log: any 5xx but a drain. */
export function isFault(e: HubError): boolean {
  return e.status >= 500 && e.code !== 'draining';
}

/** The status, JSON body and headers an error is answered with; 5xx causes go to the log. */
export function errorResponse(err: unknown): { status: number; body: string; headers: Record<string, string>; hidden: boolean; error: HubError } {
  const e = isHubError(err) ? err : fromHttpError(err as Record<string, never>);
  const hidden = e.code === 'internal';
  const message = hidden ? 'internal error' : e.message;
  const headers: Record<string, string> = { ...(e.headers ?? {}) };
  if (e.retryAfterS !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(e.retryAfterS)));
  if (e.status === 401) headers['WWW-Authenticate'] = challenge(e.code, message);
  const body = JSON.stringify(hidden ? { error: { code: 'internal', message } } : e.toBody());
  return { status: e.status, body, headers, hidden, error: e };
}

/** The first middleware: anything thrown becomes `{error:{code,message,field?}}` with its status. */
export function errorMiddleware(log: ErrorLogger, observe?: RefusalObserver) {
  return async function errors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 405 && ctx.body == null) {
        throw new HubError('method_not_allowed', `${ctx.method} is not allowed here`, { headers: { Allow: String(ctx.response.get('Allow')) } });
      }
      if (ctx.status === 404 && ctx.body == null && ctx.respond !== false) throw new HubError('not_found', `no route for ${ctx.path}`);
    } catch (err) {
      const answer = errorResponse(err);
      const e = answer.error;
      // A drain is no fault; every other 5xx has a cause the operator needs and the client must not see.
      if (isFault(e)) {
        log(answer.hidden ? err : e, { method: ctx.method, path: ctx.path, reqId: (ctx.state as { requestId?: string }).requestId });
      }
      observe?.(e, ctx);
      ctx.status = answer.status;
      ctx.type = 'application/json';
      ctx.body = answer.body;
      for (const [name, value] of Object.entries(answer.headers)) ctx.set(name, value);
    }
  };
}
