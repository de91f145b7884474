import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../lib/config.js';

describe('loadConfig(env)', () => {
  it('has the defaults of the protocol', () => {
    const c = loadConfig({});
    expect(c).to.include({ port: 8080, host: '127.0.0.1', holdTimeoutMs: 25_000, maxHoldMs: 60_000, ringSize: 1024, maxBatch: 256, maxSubs: 16, presenceTtlMs: 35_000, reactionWindowMs: 1000, maxBodyBytes: 16_384, drainTimeoutMs: 10_000, redisUrl: null, jwtSecret: null });
    expect(c.rateChat).to.deep.equal({ count: 5, windowMs: 10_000 });
    expect(c.rateReactions).to.deep.equal({ count: 20, windowMs: 10_000 });
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('collects every problem and names each variable', () => {
    try {
      loadConfig({ HOLD_TIMEOUT_MS: '30s', RING_SIZE: '0', RATE_CHAT: 'lots', REDIS_URL: 'http://x', CORS_ORIGINS: 'https://a.example/path' });
      expect.fail('should throw');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const text = (err as ConfigError).problems.join('\n');
      for (const name of ['HOLD_TIMEOUT_MS', 'RING_SIZE', 'RATE_CHAT', 'REDIS_URL', 'CORS_ORIGINS']) expect(text).to.contain(name);
      expect(text).to.contain('got "30s"');
    }
  });

  it('refuses a default hold above the largest hold', () => {
    expect(() => loadConfig({ HOLD_TIMEOUT_MS: '50000', MAX_HOLD_MS: '40000' })).to.throw(ConfigError, /MAX_HOLD_MS/);
  });

  it('refuses two key sources and short secrets', () => {
    expect(() => loadConfig({ JWT_SECRET: 'x'.repeat(40), JWT_JWKS_URL: 'https://keys.example/jwks' })).to.throw(ConfigError, /only one/);
    expect(() => loadConfig({ JWT_SECRET: 'short' })).to.throw(ConfigError, /JWT_SECRET/);
  });

  it('parses rate limits and CORS origins', () => {
    const c = loadConfig({ RATE_CHAT: '3/5', CORS_ORIGINS: 'https://a.example, http://b.example:8080' });
    expect(c.rateChat).to.deep.equal({ count: 3, windowMs: 5000 });
    expect(c.corsOrigins).to.deep.equal(['https://a.example', 'http://b.example:8080']);
  });
});
