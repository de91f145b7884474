import type { Dashboard } from '../ops/dashboard.js';
import type { Config } from '../config.js';
import type { Hub } from '../hub.js';
import type { Metrics } from '../ops/metrics.js';
import type { ErrorLogger } from './errors.js';
import type { SseStreams } from './sse.js';

/** What the routes are given: the hub and the settings they translate HTTP with. */
export interface RouteDeps {
  hub: Hub;
  config: Readonly<Config>;
  metrics: Metrics;
  /** Where 5xx causes go (the error middleware and held polls answered outside Koa). */
  log: ErrorLogger;
  /** The server's open SSE streams (heartbeat, drain deadline); one is made when not given. */
  sse?: SseStreams;
  /** Demo mode's hooks (`serve --demo`); null otherwise. */
  demo?: DemoDeps | null;
  /** The live dashboard's numbers (GET /admin/summary); absent in apps built without one. */
  dashboard?: Dashboard | null;
}

/** What demo mode adds: guest viewer tokens for the demo pages, so their chat works. */
export interface DemoDeps {
  viewerToken(): Promise<{ token: string; sub: string; name: string; expiresInS: number }>;
}
