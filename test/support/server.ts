import type { DestinationStream } from 'pino';
import { startService, type Service } from '../../bin/holdline.js';
import type { Clock } from '../../lib/util/clock.js';
import { loadConfig, type StartMode } from '../../lib/config.js';
import { RedisStore } from '../../lib/store/redis/store.js';
import { REDIS_URL, TEST_OPTIONS, testPrefix } from './stores.js';

/** Which store the HTTP suites run on: `TEST_STORE=redis` runs them again on a real Redis. */
export const TEST_STORE: 'memory' | 'redis' = process.env['TEST_STORE'] === 'redis' ? 'redis' : 'memory';

/** Settings that put a test server on the chosen store (its own key prefix on Redis). */
export function storeSettings(): Record<string, string> {
  return TEST_STORE === 'redis' ? { REDIS_URL, REDIS_PREFIX: testPrefix() } : {};
}

/** Deletes every key a Redis-backed test server wrote (a no-op on memory). */
export async function purgeStore(settings: Record<string, string>): Promise<void> {
  const prefix = settings['REDIS_PREFIX'];
  if (prefix === undefined) return;
  const store = new RedisStore({ ...TEST_OPTIONS, url: REDIS_URL, keyPrefix: prefix });
  try {
    await store.purge();
  } finally {
    await store.close();
  }
}

/** The shared secret tests sign tokens with. */
export const TEST_SECRET = 'holdline-test-secret-0123456789abcdef';

/** The METRICS_TOKEN test servers are started with: /metrics answers only with it. */
export const TEST_METRICS_TOKEN = 'holdline-test-metrics-token';

/** The header that opens /metrics of a test server. */
export const METRICS_AUTH = { Authorization: `Bearer ${TEST_METRICS_TOKEN}` };

export interface TestServer {
  url: string;
  service: Service;
  /** A token with `publish admin`, sub "admin" ('' when the server verifies with a public key or key set). */
  adminToken: string;
  /** Mints a token for any claims. */
  token(claims: { sub?: string; name?: string; scope?: string; events?: string[] }, ttlS?: number): Promise<string>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Where JSON logs go; without it the server logs nothing (LOG_LEVEL silent unless overridden). */
  logs?: DestinationStream;
  /** The clock the service runs on (a FakeClock to move time by hand). */
  clock?: Clock;
  /** How the process is started: `{dev: true}` is `serve --dev`. */
  mode?: StartMode;
  /** Demo mode (`serve --demo`): the demo pages are served, with guest tokens for these events. */
  demoEvents?: string[];
}

/** Starts the real service in-process on 127.0.0.1 and a free port; env-style overrides. */
export async function startTestServer(overrides: Partial<Record<string, string>> = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const settings = storeSettings();
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: TEST_SECRET,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    DRAIN_TIMEOUT_MS: '2000',
    LOG_LEVEL: options.logs ? 'info' : 'silent',
    ...settings,
    ...overrides,
  }, options.mode);
  const service = await startService(config, {
    ...(options.logs ? { logDestination: options.logs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.demoEvents ? { demo: { events: options.demoEvents } } : {}),
  });
  // A server that verifies with a public key or a key set holds no signing key: tests sign their own.
  const adminToken = await service.auth.mint({ sub: 'admin', scope: 'publish admin' }).catch(() => '');
  return {
    url: service.url,
    service,
    adminToken,
    token: (claims, ttlS) => service.auth.mint(claims, ttlS),
    close: async () => {
      await service.close();
      await purgeStore(settings);
    },
  };
}
