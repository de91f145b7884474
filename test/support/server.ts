import { startService, type Service } from '../../bin/holdline.js';
import { loadConfig } from '../../lib/config.js';

/** The shared secret tests sign tokens with. */
export const TEST_SECRET = 'holdline-test-secret-0123456789abcdef';

export interface TestServer {
  url: string;
  service: Service;
  /** A token with `publish admin`, sub "admin". */
  adminToken: string;
  /** Mints a token for any claims. */
  token(claims: { sub?: string; name?: string; scope?: string; events?: string[] }, ttlS?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts the real service in-process on 127.0.0.1 and a free port; env-style overrides. */
export async function startTestServer(overrides: Partial<Record<string, string>> = {}): Promise<TestServer> {
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, DRAIN_TIMEOUT_MS: '2000', ...overrides });
  const service = await startService(config, { log: () => undefined });
  const adminToken = await service.auth.mint({ sub: 'admin', scope: 'publish admin' });
  return {
    url: service.url,
    service,
    adminToken,
    token: (claims, ttlS) => service.auth.mint(claims, ttlS),
    close: () => service.close(),
  };
}
