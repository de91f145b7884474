import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Config } from '../config.js';
import type { Metrics } from '../ops/metrics.js';
import { BEARER } from './auth.js';

/**
 * Where /metrics is served: its series name events and count what the server does, which is
 * nobody's business but the operator's. METRICS_PORT gives it a listener of its own (kept off
 * the public ingress); METRICS_TOKEN puts it behind a bearer token; with neither it is served
 * on the main port only in development mode.
 */
export type MetricsExposure = 'main' | 'port' | 'none';

/** Where the configuration puts /metrics. */
export function metricsExposure(config: Pick<Config, 'metricsPort' | 'metricsToken' | 'dev'>): MetricsExposure {
  if (config.metricsPort !== null) return 'port';
  if (config.metricsToken !== null || config.dev) return 'main';
  return 'none';
}

/** True when the Authorization header carries METRICS_TOKEN (or none is configured). */
export function metricsAuthorized(authorization: string | undefined, token: string | null): boolean {
  if (token === null) return true;
  const given = BEARER.exec(authorization ?? '')?.[1];
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

const NOT_FOUND = '{"error":{"code":"not_found","message":"no route for this path"}}';
const UNAUTHORIZED = '{"error":{"code":"unauthorized","message":"/metrics needs the METRICS_TOKEN bearer token"}}';

/** The answer for a /metrics request that is refused: 401 with a challenge. */
export function metricsRefusal(): { status: number; body: string; headers: Record<string, string> } {
  return { status: 401, body: UNAUTHORIZED, headers: { 'WWW-Authenticate': 'Bearer realm="holdline-metrics"' } };
}

/** The listener of METRICS_PORT: GET /metrics (with METRICS_TOKEN when set) and /healthz, nothing else. */
export function createMetricsServer(metrics: Metrics, token: string | null): http.Server {
  const send = (res: http.ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/healthz')) return send(res, 404, 'application/json', NOT_FOUND);
    if (path === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}');
    if (!metricsAuthorized(req.headers.authorization, token)) {
      const refusal = metricsRefusal();
      return send(res, refusal.status, 'application/json', refusal.body, refusal.headers);
    }
    metrics.render().then(
      ({ contentType, body }) => send(res, 200, contentType, body),
      () => send(res, 500, 'application/json', '{"error":{"code":"internal","message":"internal error"}}'),
    );
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
