import type { Context, Next } from 'koa';
import { invalid } from '../model/errors.js';
import { isTokenParam } from './auth.js';

/** How long a path and a query string may be. */
export interface UrlLimits {
  /** @default 4096 */
  maxQueryBytes: number;
  /** @default 1024 */
  maxPathBytes: number;
}

/** Bytes of a raw query string, not counting access_token parameters (a JWT has its own cap). */
function queryBytes(raw: string): number {
  let n = 0;
  for (const part of raw.split('&')) if (!isTokenParam(part.split('=', 1)[0]!)) n += part.length + 1;
  return Math.max(0, n - 1);
}

/**
 * Refuses long paths and query strings before anything parses them further: no valid request
 * comes near the limits (ids are at most 128 characters, cursors 32), and every parameter
 * parsed, split and matched is work an attacker chooses the size of.
 */
export function urlLimits(limits: UrlLimits) {
  return async function checkUrl(ctx: Context, next: Next): Promise<void> {
    checkUrlLimits(ctx.path, ctx.querystring, limits);
    return next();
  };
}

/** Throws 400 naming `path` or `query` when a raw path or query string is over its limit. */
export function checkUrlLimits(path: string, query: string, limits: UrlLimits): void {
  // The raw URL is ASCII on the wire (Node refuses anything else), so length is bytes.
  if (path.length > limits.maxPathBytes) throw invalid('path', `the path may be at most ${limits.maxPathBytes} bytes`);
  // Leaving access_token out can only shorten the count: split only a query already too long.
  if (query.length > limits.maxQueryBytes && queryBytes(query) > limits.maxQueryBytes) {
    throw invalid('query', `the query string may be at most ${limits.maxQueryBytes} bytes besides access_token`);
  }
}
