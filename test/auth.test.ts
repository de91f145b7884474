import { expect } from 'chai';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Auth, signToken, type AuthOptions } from '../lib/trust/auth.js';
import { FakeClock } from '../lib/util/clock.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { hmacSigner, keyPair, pssSigner, rawJwt, refusal, seconds, type KeyPair } from './support/jwt.js';

const SECRET = 'auth-test-secret-0123456789abcdef-0123';

function hsAuth(extra: Partial<AuthOptions> = {}): Auth {
  return new Auth({ secret: SECRET, issuer: null, audience: null, ...extra });
}

describe('Auth with an HS256 secret', () => {
  it('turns verified claims into a principal', async () => {
    const token = await signToken({ sub: 'u1', name: 'Ann', scope: 'publish bogus', events: ['m1'] }, { secret: SECRET }, { ttlS: 60 });
    const p = await hsAuth().verify(token);
    expect(p.sub).to.equal('u1');
    expect(p.name).to.equal('Ann');
    expect([...p.scopes]).to.deep.equal(['publish']);
    expect(p.events).to.deep.equal(['m1']);
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signToken({ sub: 'u1' }, { secret: `${SECRET}-other` }, { ttlS: 60 });
    expect(await refusal(hsAuth(), token)).to.deep.equal({ code: 'invalid_token', message: 'the token signature does not verify' });
  });

  it('refuses HS512 even with the right secret: only HS256 is accepted', async () => {
    const token = await signToken({ sub: 'u1' }, { secret: SECRET }, { ttlS: 60, alg: 'HS512' });
    expect((await refusal(hsAuth(), token)).message).to.equal('the token algorithm is not accepted');
  });

  it('refuses alg none, with or without a signature part', async () => {
    const payload = { sub: 'u1', scope: 'admin', exp: seconds() + 60 };
    expect((await refusal(hsAuth(), rawJwt({ alg: 'none' }, payload))).code).to.equal('invalid_token');
    expect((await refusal(hsAuth(), rawJwt({ alg: 'None', typ: 'JWT' }, payload, () => 'x'))).code).to.equal('invalid_token');
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const token = await signToken({ sub: 'u1', scope: 'publish' }, { secret: SECRET }, { ttlS: 60 });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'u1', scope: 'admin', exp: seconds() + 60 })).toString('base64url')}.${s}`;
    expect((await refusal(hsAuth(), forged)).message).to.equal('the token signature does not verify');
  });

  it('refuses a token without exp: an unexpiring bearer token could never be taken back', async () => {
    const token = rawJwt({ alg: 'HS256' }, { sub: 'u1' }, hmacSigner(SECRET));
    expect((await refusal(hsAuth(), token)).message).to.equal('the token has no exp claim');
  });

  it('refuses garbage', async () => {
    for (const t of ['x', 'a.b.c', '..', 'eyJ.eyJ.', rawJwt({ alg: 'HS256' }, [], hmacSigner(SECRET))]) {
      expect((await refusal(hsAuth(), t)).code).to.equal('invalid_token');
    }
  });

  it('refuses claims of the wrong shape', async () => {
    for (const claims of [{ sub: 'has space' }, { sub: 5 }, { name: 'x'.repeat(65) }, { scope: ['admin'] }, { events: 'm1' }, { events: [1] }]) {
      const token = rawJwt({ alg: 'HS256' }, { ...claims, exp: seconds() + 60 }, hmacSigner(SECRET));
      expect((await refusal(hsAuth(), token)).code).to.equal('invalid_token');
    }
  });

  it('checks issuer and audience when configured', async () => {
    const auth = hsAuth({ issuer: 'https://issuer.example', audience: 'holdline' });
    const good = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60, issuer: 'https://issuer.example', audience: 'holdline' });
    expect((await auth.verify(good)).sub).to.equal('u');
    const wrongIss = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60, issuer: 'https://evil.example', audience: 'holdline' });
    expect((await refusal(auth, wrongIss)).message).to.equal("the token's iss claim is not accepted");
    const wrongAud = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60, issuer: 'https://issuer.example', audience: 'other' });
    expect((await refusal(auth, wrongAud)).message).to.equal("the token's aud claim is not accepted");
    const none = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60 });
    expect((await refusal(auth, none)).message).to.match(/has no (iss|aud) claim/);
  });
});

describe('Auth clock tolerance and expiry', () => {
  const clock = new FakeClock();
  const at = (offsetS: number) => ({ nowMs: clock.now() + offsetS * 1000 });

  it('accepts a token expired within the tolerance and refuses one beyond it', async () => {
    const auth = hsAuth({ clock, clockToleranceS: 5 });
    const recent = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60, ...at(-63) });
    expect((await auth.verify(recent)).sub).to.equal('u');
    const old = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60, ...at(-66) });
    expect(await refusal(auth, old)).to.deep.equal({ code: 'invalid_token', message: 'the token has expired' });
  });

  it('accepts nbf a little ahead and refuses a token that is not valid yet', async () => {
    const auth = hsAuth({ clock, clockToleranceS: 5 });
    const soon = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60, notBeforeS: 3, ...at(0) });
    expect((await auth.verify(soon)).sub).to.equal('u');
    const later = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 600, notBeforeS: 60, ...at(0) });
    expect((await refusal(auth, later)).message).to.equal('the token is not valid yet');
  });

  it('sets expiresAt to the moment the server stops accepting the token (exp plus tolerance)', async () => {
    const auth = hsAuth({ clock, clockToleranceS: 5 });
    const token = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 30, ...at(0) });
    expect((await auth.verify(token)).expiresAt).to.equal((seconds(clock.now()) + 35) * 1000);
  });
});

describe('Auth verified-token cache', () => {
  it('answers a repeat from the cache (the very same principal)', async () => {
    const auth = hsAuth();
    const token = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60 });
    const first = await auth.verify(token);
    expect(await auth.verify(token)).to.equal(first);
  });

  it('never answers from the cache at or after exp, even within the tolerance', async () => {
    const clock = new FakeClock();
    const auth = hsAuth({ clock, clockToleranceS: 5 });
    const token = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 10, nowMs: clock.now() });
    const first = await auth.verify(token);
    clock.advance(10_500);
    // Past exp but inside the tolerance: verified afresh by jose, not served from the cache.
    const again = await auth.verify(token);
    expect(again).to.not.equal(first);
    clock.advance(5_000);
    expect((await refusal(auth, token)).message).to.equal('the token has expired');
  });

  it('is bounded: the least recently used token is verified again', async () => {
    const auth = hsAuth({ tokenCacheMax: 2 });
    const tokens = await Promise.all(['a', 'b', 'c'].map((sub) => signToken({ sub }, { secret: SECRET }, { ttlS: 60 })));
    const first = await auth.verify(tokens[0]!);
    await auth.verify(tokens[1]!);
    await auth.verify(tokens[2]!);
    expect(await auth.verify(tokens[0]!)).to.not.equal(first);
  });

  it('can be turned off', async () => {
    const auth = hsAuth({ tokenCacheMax: 0 });
    const token = await signToken({ sub: 'u' }, { secret: SECRET }, { ttlS: 60 });
    expect(await auth.verify(token)).to.not.equal(await auth.verify(token));
  });
});

describe('Auth with a PEM public key', () => {
  const cases: Array<[string, KeyPair, string]> = [
    ['RSA', keyPair('rsa'), 'RS256'],
    ['EC P-256', keyPair('ec', 'P-256'), 'ES256'],
    ['EC P-384', keyPair('ec', 'P-384'), 'ES384'],
    ['Ed25519', keyPair('ed25519'), 'EdDSA'],
  ];
  for (const [name, pair, alg] of cases) {
    it(`verifies ${alg} tokens with an ${name} key and refuses the confused HS256 token`, async () => {
      const auth = new Auth({ secret: null, publicKey: pair.publicPem, issuer: null, audience: null });
      expect(auth.devMode).to.equal(false);
      const token = await signToken({ sub: 'u' }, { privateKey: pair.privatePem }, { ttlS: 60 });
      expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg).to.equal(alg);
      expect((await auth.verify(token)).sub).to.equal('u');
      // Algorithm confusion: HMAC keyed with the public key's PEM bytes, which the attacker has.
      const confused = rawJwt({ alg: 'HS256', typ: 'JWT' }, { sub: 'u', scope: 'admin', exp: seconds() + 60 }, hmacSigner(pair.publicPem));
      expect((await refusal(auth, confused)).message).to.equal('the token algorithm is not accepted');
      expect((await refusal(auth, rawJwt({ alg: 'none' }, { sub: 'u', exp: seconds() + 60 }))).code).to.equal('invalid_token');
      // A real signature by another key of the same type.
      const other = await signToken({ sub: 'u' }, { privateKey: keyPair(name === 'RSA' ? 'rsa' : name === 'Ed25519' ? 'ed25519' : 'ec', name.endsWith('384') ? 'P-384' : 'P-256').privatePem }, { ttlS: 60 });
      expect((await refusal(auth, other)).message).to.equal('the token signature does not verify');
    });
  }

  it('accepts only the algorithm of the key type: PS256 with an RSA key is refused', async () => {
    const pair = keyPair('rsa');
    const auth = new Auth({ secret: null, publicKey: pair.publicPem, issuer: null, audience: null });
    const pss = rawJwt({ alg: 'PS256' }, { sub: 'u', exp: seconds() + 60 }, pssSigner(pair.privateKey));
    expect((await refusal(auth, pss)).message).to.equal('the token algorithm is not accepted');
  });

  it('has no signing key, so it mints nothing', async () => {
    const auth = new Auth({ secret: null, publicKey: keyPair('ec').publicPem, issuer: null, audience: null });
    let failed = false;
    await auth.mint({ sub: 'x' }).catch(() => (failed = true));
    expect(failed).to.equal(true);
  });
});

describe('JWT_PUBLIC_KEY in the configuration', () => {
  const base = { JWT_SECRET: '' };
  let dir = '';
  before(() => (dir = mkdtempSync(join(tmpdir(), 'holdline-keys-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes PEM text, PEM text with literal \\n sequences, or the path of a PEM file', () => {
    const pair = keyPair('ec');
    expect(loadConfig({ ...base, JWT_PUBLIC_KEY: pair.publicPem }).jwtPublicKey).to.include('BEGIN PUBLIC KEY');
    expect(loadConfig({ ...base, JWT_PUBLIC_KEY: pair.publicPem.trim().replace(/\n/g, '\\n') }).jwtPublicKey).to.equal(pair.publicPem.trim());
    const file = join(dir, 'public.pem');
    writeFileSync(file, pair.publicPem);
    expect(loadConfig({ ...base, JWT_PUBLIC_KEY: file }).jwtPublicKey).to.equal(pair.publicPem);
  });

  it('refuses a missing file, a private key, a short RSA key, and a second key source, naming the variable', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
      return [];
    };
    expect(problems({ ...base, JWT_PUBLIC_KEY: join(dir, 'nope.pem') })).to.deep.equal(['JWT_PUBLIC_KEY must be PEM text or the path of a readable PEM file']);
    expect(problems({ ...base, JWT_PUBLIC_KEY: keyPair('ec').privatePem })[0]).to.match(/^JWT_PUBLIC_KEY is refused: this is a private key/);
    expect(problems({ ...base, JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' })[0]).to.match(/^JWT_PUBLIC_KEY is refused/);
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
    expect(problems({ ...base, JWT_PUBLIC_KEY: short })).to.deep.equal(['JWT_PUBLIC_KEY is refused: an RSA key must be at least 2048 bits']);
    expect(problems({ JWT_SECRET: SECRET, JWT_PUBLIC_KEY: keyPair('ec').publicPem })[0]).to.match(/set only one of/);
    expect(problems({ JWT_JWKS_URL: 'file:///etc/passwd' })[0]).to.match(/^JWT_JWKS_URL must be a http: or https: URL/);
    expect(problems({ JWT_JWKS_URL: 'http://id.example/jwks.json' })).to.deep.equal(['JWT_JWKS_URL must be an https: URL (plain http: only to localhost)']);
    for (const ok of ['https://id.example/jwks.json', 'http://127.0.0.1:9000/jwks', 'http://localhost/jwks', 'http://[::1]:80/jwks']) {
      expect(problems({ JWT_JWKS_URL: ok }), ok).to.deep.equal([]);
    }
    expect(problems({ TOKEN_CACHE_MAX: '-1', MAX_HEADER_BYTES: '100', MAX_QUERY_BYTES: 'lots' })).to.have.length(3);
  });
});
