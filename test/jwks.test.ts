import { expect } from 'chai';
import request from 'supertest';
import { Auth, signToken } from '../lib/trust/auth.js';
import { FakeClock } from '../lib/util/clock.js';
import { hmacSigner, keyPair, publicJwk, rawJwt, refusal, seconds, startJwksServer, type JwksServer } from './support/jwt.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('Auth with a JWKS URL', () => {
  const a = keyPair('ec');
  const b = keyPair('rsa');
  let jwks: JwksServer;
  let clock: FakeClock;
  const auth = (cooldownMs: number) =>
    new Auth({ secret: null, jwksUrl: jwks.url, jwks: { cacheMs: 60_000, cooldownMs, timeoutMs: 2000 }, issuer: null, audience: null, clock });
  const sign = (pair: typeof a, kid: string, sub = 'u') => signToken({ sub }, { privateKey: pair.privatePem, kid }, { ttlS: 600, nowMs: clock.now() });

  beforeEach(async () => {
    // jose measures its cooldown on the real clock; freshness and expiry follow this one.
    clock = new FakeClock(Date.now());
    jwks = await startJwksServer([publicJwk(a, 'a', 'ES256')]);
  });
  afterEach(() => jwks.close());

  it('fetches the key set once and keeps using it while it is fresh', async () => {
    const verifier = auth(0);
    expect((await verifier.verify(await sign(a, 'a', 'u1'))).sub).to.equal('u1');
    expect((await verifier.verify(await sign(a, 'a', 'u2'))).sub).to.equal('u2');
    expect(jwks.fetches).to.equal(1);
    clock.advance(60_000);
    expect((await verifier.verify(await sign(a, 'a', 'u3'))).sub).to.equal('u3');
    expect(jwks.fetches).to.equal(2);
  });

  it('follows a key rotation: a new kid triggers a refetch, and the old key is refused once removed', async () => {
    const verifier = auth(0);
    const oldToken = await sign(a, 'a');
    expect((await verifier.verify(oldToken)).sub).to.equal('u');
    jwks.keys = [publicJwk(a, 'a', 'ES256'), publicJwk(b, 'b', 'RS256')];
    const newToken = await sign(b, 'b');
    expect((await verifier.verify(newToken)).sub).to.equal('u');
    expect(jwks.fetches).to.equal(2);

    jwks.keys = [publicJwk(b, 'b', 'RS256')];
    // Until the set is looked at again, the old key stands (that is what caching the set means).
    expect((await verifier.verify(oldToken)).sub).to.equal('u');
    clock.advance(60_000);
    expect(await refusal(verifier, oldToken)).to.deep.equal({ code: 'invalid_token', message: 'no key of the key set matches the token' });
    expect((await verifier.verify(newToken)).sub).to.equal('u');
  });

  it('refetches at most once per cooldown however many unknown kids arrive', async () => {
    const verifier = auth(60_000);
    await verifier.verify(await sign(a, 'a'));
    for (let i = 0; i < 5; i++) {
      expect((await refusal(verifier, await sign(b, `unknown-${i}`))).message).to.equal('no key of the key set matches the token');
    }
    expect(jwks.fetches).to.equal(1);
  });

  it('refuses HS256 tokens (even keyed with a published key) and alg none', async () => {
    const verifier = auth(0);
    const jwkText = JSON.stringify(publicJwk(a, 'a', 'ES256'));
    const confused = rawJwt({ alg: 'HS256', kid: 'a' }, { sub: 'u', exp: seconds(clock.now()) + 60 }, hmacSigner(jwkText));
    expect((await refusal(verifier, confused)).message).to.equal('the token algorithm is not accepted');
    expect((await refusal(verifier, rawJwt({ alg: 'none', kid: 'a' }, { sub: 'u', exp: seconds(clock.now()) + 60 }))).code).to.equal('invalid_token');
  });

  it('answers 503 unavailable while the key set cannot be fetched, and recovers after the cooldown', async () => {
    const verifier = auth(5_000);
    jwks.failing = true;
    const token = await sign(a, 'a');
    expect((await refusal(verifier, token)).code).to.equal('unavailable');
    jwks.failing = false;
    // Not hammered on every request while down.
    expect((await refusal(verifier, token)).code).to.equal('unavailable');
    expect(jwks.fetches).to.equal(1);
    clock.advance(5_000);
    expect((await verifier.verify(token)).sub).to.equal('u');
  });

  it('keeps the last good key set when a refetch fails', async () => {
    const verifier = auth(5_000);
    const token = await sign(a, 'a');
    await verifier.verify(token);
    jwks.failing = true;
    clock.advance(60_000);
    expect((await verifier.verify(token)).sub).to.equal('u');
    expect((await verifier.verify(await sign(a, 'a', 'other'))).sub).to.equal('other');
  });
});

describe('the service with JWT_JWKS_URL and with JWT_PUBLIC_KEY', () => {
  const pair = keyPair('ed25519');
  let jwks: JwksServer;
  let servers: TestServer[] = [];
  before(async () => {
    jwks = await startJwksServer([publicJwk(pair, 'k1', 'EdDSA')]);
    servers = [
      await startTestServer({ JWT_SECRET: '', JWT_JWKS_URL: jwks.url, JWT_ISSUER: 'https://id.example' }),
      await startTestServer({ JWT_SECRET: '', JWT_PUBLIC_KEY: pair.publicPem, JWT_ISSUER: 'https://id.example' }),
    ];
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await jwks.close();
  });

  for (const [i, name] of ['JWKS', 'public key'].entries()) {
    it(`accepts tokens signed by the private key and refuses others (${name})`, async () => {
      const server = servers[i]!;
      expect(server.service.auth.devMode).to.equal(false);
      const good = await signToken({ sub: 'pub', scope: 'publish' }, { privateKey: pair.privatePem, kid: 'k1' }, { ttlS: 60, issuer: 'https://id.example' });
      await request(server.url).put('/events/jwks-m1').set('Authorization', `Bearer ${good}`).send({ title: 'A' }).expect(201);
      const wrongIss = await signToken({ sub: 'pub' }, { privateKey: pair.privatePem, kid: 'k1' }, { ttlS: 60, issuer: 'https://evil.example' });
      const res = await request(server.url).get('/events').set('Authorization', `Bearer ${wrongIss}`).expect(401);
      expect(res.body.error.code).to.equal('invalid_token');
      expect(res.headers['www-authenticate']).to.equal('Bearer realm="holdline", error="invalid_token", error_description="the token\'s iss claim is not accepted"');
      const confused = rawJwt({ alg: 'HS256', kid: 'k1' }, { sub: 'x', scope: 'admin', iss: 'https://id.example', exp: seconds() + 60 }, hmacSigner(pair.publicPem));
      await request(server.url).delete('/events/jwks-m1').query({ access_token: confused }).expect(401);
    });
  }
});
