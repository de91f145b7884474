import { expect } from 'chai';
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, Next } from 'koa';
import { generate } from 'selfsigned';
import request from 'supertest';
import { Auth } from '../lib/trust/auth.js';
import { FakeClock } from '../lib/util/clock.js';
import { loadConfig } from '../lib/config.js';
import { createLogger } from '../lib/ops/log.js';
import { Hub } from '../lib/hub.js';
import { createApp } from '../lib/http/app.js';
import { redactUrl } from '../lib/http/auth.js';
import { Metrics } from '../lib/ops/metrics.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { parseRaw, rawRequest } from './support/raw.js';
import { startTestServer, TEST_SECRET, type TestServer } from './support/server.js';

/** Waits (bounded, by polling state, not by timing) until cond holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

const CSP = "default-src 'none'; frame-ancestors 'none'";

describe('tokens over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await request(server.url).put('/events/t-m1').set('Authorization', `Bearer ${server.adminToken}`).send({ title: 'T' }).expect(201);
  });
  after(() => server.close());

  it('takes the token from the header or from access_token', async () => {
    const token = await server.token({ sub: 'p1', scope: 'publish' });
    await request(server.url).post('/events/t-m1/notices').set('Authorization', `Bearer ${token}`).send({ title: 'hi' }).expect(201);
    await request(server.url).post('/events/t-m1/notices').query({ access_token: token }).send({ title: 'hi' }).expect(201);
  });

  it('refuses a token in both the header and the query with 400', async () => {
    const res = await request(server.url).get('/events').query({ access_token: server.adminToken }).set('Authorization', `Bearer ${server.adminToken}`).expect(400);
    expect(res.body.error).to.include({ code: 'invalid_request', field: 'access_token' });
    expect(res.text).to.not.include(server.adminToken);
  });

  it('refuses access_token given twice with 400, without echoing either', async () => {
    const res = await request(server.url).get(`/events?access_token=${server.adminToken}&access_token=x`).expect(400);
    expect(res.body.error.code).to.equal('invalid_request');
    expect(res.text).to.not.include(server.adminToken);
  });

  it('answers 401 with a bare Bearer challenge when a token is needed and missing', async () => {
    const res = await request(server.url).post('/events/t-m1/notices').send({ title: 'hi' }).expect(401);
    expect(res.body.error.code).to.equal('unauthorized');
    expect(res.headers['www-authenticate']).to.equal('Bearer realm="holdline"');
  });

  it('answers 401 invalid_token with error and error_description for a refused token', async () => {
    const res = await request(server.url).get('/events').set('Authorization', 'Bearer not.a.token').expect(401);
    expect(res.body.error.code).to.equal('invalid_token');
    expect(res.headers['www-authenticate']).to.match(/^Bearer realm="holdline", error="invalid_token", error_description="[^"\\]+"$/);
  });

  it('refuses a token over 8192 characters before verifying it', async () => {
    const res = await request(server.url).get('/events').query({ access_token: 'a'.repeat(8193) }).expect(401);
    expect(res.body.error.code).to.equal('invalid_token');
  });
});

describe('the query token and logs', () => {
  it('redactUrl hides every access_token value and nothing else', () => {
    expect(redactUrl('/events?a=1&access_token=abc.def&b=2&access_token=x')).to.equal('/events?a=1&access_token=[redacted]&b=2&access_token=[redacted]');
    expect(redactUrl('/events?xaccess_token=1')).to.equal('/events?xaccess_token=1');
    expect(redactUrl('/events')).to.equal('/events');
    expect(redactUrl('/events?access%5Ftoken=abc&Access_Token=def&access_token')).to.equal('/events?access%5Ftoken=[redacted]&Access_Token=[redacted]&access_token=[redacted]');
  });

  it('is gone from every URL a request logger or the error logger sees, whatever the answer', async () => {
    const config = loadConfig({ JWT_SECRET: TEST_SECRET });
    const clock = new FakeClock();
    const store = new MemoryStore({ ringSize: 16, chatHistory: 5, maxEvents: 10, idempotencyTtlMs: 60_000, idempotencyMax: 100 });
    const hub = new Hub(store, clock, config);
    const auth = new Auth({ secret: TEST_SECRET, issuer: null, audience: null, clock });
    const token = await auth.mint({ sub: 'admin', scope: 'admin' });
    const seen: string[] = [];
    const logger = createLogger('info', { write: (line: string) => void seen.push(line) });
    const metrics = new Metrics(
      { heldPolls: () => 0, streams: () => 0, draining: () => false, eventsOpen: async () => 0, viewerTotals: async () => ({ total: 0, top: [] }) },
      { processMetrics: false },
    );
    const app = createApp({ hub, config, auth, metrics, logger });
    // Where a request logger would sit: first, reading the URL once the answer is made.
    app.middleware.unshift(async (ctx: Context, next: Next) => {
      await next();
      seen.push(ctx.url, ctx.originalUrl, ctx.req.url ?? '', ctx.href, JSON.stringify(ctx.query));
    });
    try {
      await request(app.callback()).get('/events').query({ access_token: token }).expect(200);
      await request(app.callback()).get('/events').query({ access_token: token, cursor: 'x', viewer: 'a' }).set('Authorization', 'Bearer x').expect(400);
      await request(app.callback()).get(`/events?access_token=${token}&access_token=${token}`).expect(400);
      await request(app.callback()).get(`/events/bad id/poll?access_token=${token}`).expect(400);
      // Spelled with an escape, the name still reaches ctx.query as access_token: it must still be hidden.
      await request(app.callback()).get(`/events?access%5Ftoken=${token}`).expect(200);
      // Make the store fail, so the error logger runs too.
      (store as unknown as { listEvents: () => Promise<never> }).listEvents = () => Promise.reject(new Error('boom'));
      await request(app.callback()).get('/events').query({ access_token: token }).expect(500);
      // Logged lines come when the response closes; let the last ones arrive.
      await new Promise((r) => setImmediate(r));
      expect(seen.some((l) => l.includes('request failed') && l.includes('boom')), 'the 500 cause is logged').to.equal(true);
      for (const line of seen) expect(line).to.not.include(token.split('.')[2]!);
      expect(seen.filter((l) => l.includes('access_token=[redacted]')).length).to.be.greaterThan(10);
    } finally {
      hub.close();
    }
  });
});

describe('a held poll whose token expires', () => {
  const clock = new FakeClock(Date.now());
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ JWT_CLOCK_TOLERANCE_S: '5' }, { clock });
    await request(server.url).put('/events/x-m1').set('Authorization', `Bearer ${server.adminToken}`).send({ title: 'X' }).expect(201);
  });
  after(() => server.close());

  it('is answered at that moment with its cursor, and the next poll with the token is 401', async () => {
    const token = await server.token({ sub: 'short' }, 10);
    const join = await request(server.url).get('/events/x-m1/poll').set('Authorization', `Bearer ${token}`).expect(200);
    const cursor = join.body.cursor as string;
    const pending = request(server.url).get('/events/x-m1/poll').query({ cursor, timeout: 50 }).set('Authorization', `Bearer ${token}`).then((r) => r);
    await until(() => server.service.hub.heldPolls === 1, 'the poll is held');
    clock.advance(10_000);
    // exp has passed, but the tolerance has not: still held.
    expect(server.service.hub.heldPolls).to.equal(1);
    clock.advance(5_200);
    const res = await pending;
    expect(res.status).to.equal(200);
    expect(res.body).to.include({ cursor, reset: false });
    expect(res.body.deltas).to.deep.equal([]);
    const next = await request(server.url).get('/events/x-m1/poll').query({ cursor }).set('Authorization', `Bearer ${token}`).expect(401);
    expect(next.body.error.code).to.equal('invalid_token');
    expect(next.headers['www-authenticate']).to.equal('Bearer realm="holdline", error="invalid_token", error_description="the token has expired"');
  });
});

describe('security headers', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.close());

  for (const [what, path, status] of [
    ['a JSON answer', '/events', 200],
    ['an error', '/events/bad%20id', 400],
    ['an unknown route', '/nope', 404],
    ['a health check', '/healthz', 200],
  ] as const) {
    it(`come with ${what}`, async () => {
      const res = await request(server.url).get(path).expect(status);
      expect(res.headers['content-security-policy']).to.equal(CSP);
      expect(res.headers['cross-origin-resource-policy']).to.equal('same-origin');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['x-frame-options']).to.equal('DENY');
      expect(res.headers['strict-transport-security'], 'never over plain HTTP').to.equal(undefined);
    });
  }

  it('come with what the HTTP parser refuses, too', async () => {
    const res = parseRaw(await rawRequest(server.service.port, 'GET /events HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'));
    expect(res.status).to.equal(400);
    expect(res.headers['content-security-policy']).to.equal(CSP);
    expect(JSON.parse(res.body).error.code).to.equal('invalid_request');
  });
});

describe('security headers on JSONP answers', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await request(server.url).put('/events/j1').set('Authorization', `Bearer ${server.adminToken}`).send({ title: 'J' }).expect(201);
  });
  after(() => server.close());

  for (const [what, path] of [
    ['an answer made in Koa', '/events/j1'],
    ['a poll answered through its sink', '/events/j1/poll'],
    ['an error', '/events/nope'],
  ] as const) {
    it(`let ${what} be loaded cross-origin as a script`, async () => {
      const res = await request(server.url).get(path).query({ callback: 'cb' }).expect(200);
      expect(res.headers['content-type']).to.match(/^application\/javascript/);
      expect(res.headers['cross-origin-resource-policy']).to.equal('cross-origin');
      expect(res.headers['content-security-policy']).to.equal(undefined);
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
    });
  }

  it('keep a refused callback a same-origin JSON answer', async () => {
    const res = await request(server.url).get('/events/j1').query({ callback: 'alert(1)' }).expect(400);
    expect(res.headers['cross-origin-resource-policy']).to.equal('same-origin');
    expect(res.headers['content-security-policy']).to.equal(CSP);
  });
});

describe('HTTPS', () => {
  let dir = '';
  let cert = '';
  let server: TestServer;
  before(async () => {
    const made = await generate([{ name: 'commonName', value: 'holdline-test' }], {
      keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 86_400_000),
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    dir = mkdtempSync(join(tmpdir(), 'holdline-tls-'));
    cert = made.cert;
    writeFileSync(join(dir, 'cert.pem'), made.cert);
    writeFileSync(join(dir, 'key.pem'), made.private, { mode: 0o600 });
    server = await startTestServer({ TLS_CERT: join(dir, 'cert.pem'), TLS_KEY: join(dir, 'key.pem') });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, ca: string | undefined): Promise<{ status: number; headers: Record<string, unknown>; body: string }> =>
    new Promise((resolve, reject) => {
      const req = https.get({ host: '127.0.0.1', port: server.service.port, path, ca, agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });

  it('serves over TLS with the configured certificate, with Strict-Transport-Security', async () => {
    expect(server.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await get('/events', cert);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.equal({ events: [] });
    expect(res.headers['strict-transport-security']).to.equal('max-age=31536000');
    expect(res.headers['content-security-policy']).to.equal(CSP);
  });

  it('is refused by a client that does not trust the certificate', async () => {
    let error: Error | null = null;
    await get('/events', undefined).catch((err: Error) => (error = err));
    expect(error).to.not.equal(null);
  });

  it('does not speak plain HTTP on the TLS port', async () => {
    const answered = await request(`http://127.0.0.1:${server.service.port}`).get('/events').then(
      (r) => r.status,
      () => 'refused',
    );
    expect(answered).to.not.equal(200);
  });
});
