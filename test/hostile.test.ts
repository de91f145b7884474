import { expect } from 'chai';
import { signToken } from '../lib/trust/auth.js';
import { createEvent, postScore, startHarness, type Harness } from './support/harness.js';
import { AUDIENCE, CASES, ISSUER, type TokenName } from './support/hostile-cases.js';
import { call, errorOf, stateOf } from './support/hostile.js';
import { hmacSigner, keyPair, rawJwt, seconds } from './support/jwt.js';
import { parseRaw, rawRequest } from './support/raw.js';
import { TEST_SECRET } from './support/server.js';

/**
 * The hostile-input battery: every route, fed what a careless or malicious client sends. Each
 * case names the status and error code it must get, and every one of them must leave every
 * event exactly as it was (record, head cursor, snapshot, viewers) and the list of events too.
 */

const EVENTS = ['h-pub', 'h-priv', 'h-end'] as const;

describe('hostile input: every refusal has its status and code and changes nothing', () => {
  let h: Harness;
  const tokens = new Map<TokenName, string>();
  const fill = (text: string, at: { C: string; E: string }): string =>
    text.replace(/\{C\}/g, at.C).replace(/\{E\}/g, at.E).replace(/\{admin\}/g, tokens.get('admin')!);
  let at = { C: '', E: '' };

  before(async () => {
    h = await startHarness({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
    const now = h.clock.now();
    const claims = { sub: 'hostile', scope: 'publish admin' };
    const ok = { ttlS: 86_400, issuer: ISSUER, audience: AUDIENCE, nowMs: now };
    const secret = { secret: TEST_SECRET };
    tokens.set('admin', h.adminToken);
    tokens.set('publisher', await signToken({ sub: 'pub', scope: 'publish' }, secret, ok));
    tokens.set('viewer', await signToken({ sub: 'fan' }, secret, ok));
    tokens.set('otherPublisher', await signToken({ sub: 'pub2', scope: 'publish', events: ['elsewhere'] }, secret, ok));
    tokens.set('expired', await signToken(claims, secret, { ...ok, nowMs: now - 3_600_000, ttlS: 60 }));
    tokens.set('notYet', await signToken(claims, secret, { ...ok, notBeforeS: 3600 }));
    tokens.set('wrongIss', await signToken(claims, secret, { ...ok, issuer: 'https://evil.test' }));
    tokens.set('wrongAud', await signToken(claims, secret, { ...ok, audience: 'someone-else' }));
    tokens.set('noIssAud', await signToken(claims, secret, { ttlS: 600, nowMs: now }));
    tokens.set('hs512', await signToken(claims, secret, { ...ok, alg: 'HS512' }));
    tokens.set('rs256', await signToken(claims, { privateKey: keyPair('rsa').privatePem }, ok));
    const payload = { ...claims, iss: ISSUER, aud: AUDIENCE, exp: seconds(now) + 600 };
    tokens.set('none', rawJwt({ alg: 'none', typ: 'JWT' }, payload));
    const viewer = tokens.get('viewer')!.split('.');
    tokens.set('tampered', `${viewer[0]}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${viewer[2]}`);
    tokens.set('wrongSecret', await signToken(claims, { secret: `${TEST_SECRET}-not` }, ok));
    tokens.set('unsigned', `${viewer[0]}.${viewer[1]}.`);
    tokens.set('noExp', rawJwt({ alg: 'HS256' }, { ...claims, iss: ISSUER, aud: AUDIENCE }, hmacSigner(TEST_SECRET)));
    tokens.set('badSub', rawJwt({ alg: 'HS256' }, { ...payload, sub: '<script>' }, hmacSigner(TEST_SECRET)));

    await createEvent(h, 'h-pub', { title: 'Public' });
    await postScore(h, 'h-pub', { data: { home: 1, away: 0 }, version: 5 });
    await createEvent(h, 'h-priv', { title: 'Private', visibility: 'private' });
    await createEvent(h, 'h-end', { title: 'Ended', state: 'ended' });
    const cursor = ((await stateOf(h, EVENTS)) as { details: Array<{ cursor: string }> }).details[0]!.cursor;
    at = { C: cursor, E: cursor.split('-')[0]! };
  });
  after(() => h.close());

  it(`has at least 80 cases (${CASES.length})`, () => {
    expect(CASES.length).to.be.at.least(80);
  });

  for (const c of CASES) {
    const title = `${c.jsonp ? '[JSONP callback] ' : ''}${c.name.slice(0, 110)} → ${c.status} ${c.code}`;
    it(title, async () => {
      const before = await stateOf(h, EVENTS);
      let status: number;
      let text: string;
      if (c.raw !== undefined) {
        const res = parseRaw(await rawRequest(h.service.port, fill(c.raw, at)));
        ({ status, body: text } = res);
      } else {
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = Array.isArray(v) ? v.map((x) => fill(x, at)) : fill(v, at);
        if (c.token) headers['Authorization'] = `Bearer ${tokens.get(c.token)!}`;
        let body: string | undefined;
        if (c.body !== undefined) {
          body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
          const type = c.type ?? 'application/json';
          if (type !== '') headers['Content-Type'] = type;
          headers['Content-Length'] = String(Buffer.byteLength(body));
        }
        const res = await call(h.service.port, { method: c.method ?? 'GET', path: fill(c.path, at), headers, ...(body === undefined ? {} : { body }) });
        ({ status, text } = res);
      }
      const hint = c.jsonp ? 'JSONP: a bad callback must be refused with 400 invalid_callback. ' : '';
      expect(status, `${hint}${text.slice(0, 300)}`).to.equal(c.status);
      const error = errorOf(text, c.entry !== undefined);
      expect(error.code, `${hint}${text.slice(0, 300)}`).to.equal(c.code);
      if (c.field !== undefined) expect(error.field, text.slice(0, 300)).to.equal(c.field);
      if (c.entry) expect(error.status).to.equal(c.entry.status);
      if (c.never !== undefined) expect(text, 'hostile input echoed').to.not.include(c.never);
      for (const t of tokens.values()) expect(text, 'a token echoed').to.not.include(t);
      expect(await stateOf(h, EVENTS), 'state after the refusal').to.deep.equal(before);
    });
  }
});
