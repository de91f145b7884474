import { expect } from 'chai';
import net from 'node:net';
import { startService } from '../bin/holdline.js';
import { loadConfig } from '../lib/config.js';
import { createEvent, freshId, startHarness, type Harness } from './support/harness.js';
import { LogCapture } from './support/logs.js';
import { METRICS_AUTH, startTestServer, storeSettings, purgeStore, TEST_SECRET, TEST_METRICS_TOKEN } from './support/server.js';

/**
 * Issue 15, findings 6 and 7: what an anonymous client could learn or spend through the
 * server's edges (metrics, JSONP, the token check, logs, the event list, sockets, the demo).
 */
describe('abuse: /metrics', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  it('answers 401 without METRICS_TOKEN, 200 with it', async () => {
    const anonymous = await h.http().get('/metrics');
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers['www-authenticate']).to.match(/^Bearer/);
    expect(anonymous.text).to.not.contain('holdline_');
    expect((await h.http().get('/metrics').set('Authorization', 'Bearer not-the-metrics-token')).status).to.equal(401);
    expect((await h.http().get('/metrics').set(METRICS_AUTH)).status).to.equal(200);
  });

  it('names no private event in the per-event series, and counts its viewers in the total', async () => {
    const h = await startHarness({ METRICS_CACHE_MS: '0' });
    after(() => h.close());
    const open = freshId('m-open');
    const secret = freshId('vip-lounge');
    await createEvent(h, open, { title: 'open' });
    await createEvent(h, secret, { title: 'vip', visibility: 'private' });
    const vip = await h.token({ sub: 'vip-fan', events: [secret] });
    await h.http().post(`/events/${open}/join`).expect(200);
    await h.http().post(`/events/${secret}/join`).set('Authorization', `Bearer ${vip}`).expect(200);
    const text = (await h.http().get('/metrics').set(METRICS_AUTH)).text;
    expect(text).to.contain(`holdline_event_viewers{event="${open}"} 1`);
    expect(text).to.contain('holdline_viewers 2');
    expect(text).to.not.contain(secret);
  });

  it('reads the store for its gauges at most once per METRICS_CACHE_MS however often it is scraped', async () => {
    let listed = 0;
    let opened = 0;
    const hub = h.service.hub;
    const totals = hub.viewerTotals.bind(hub);
    const eventsOpen = hub.eventsOpen.bind(hub);
    hub.viewerTotals = (n) => ((listed += 1), totals(n));
    hub.eventsOpen = () => ((opened += 1), eventsOpen());
    try {
      // The cache runs on the process's monotonic clock, so scrapes in a row share one reading.
      for (let i = 0; i < 5; i++) await h.http().get('/metrics').set(METRICS_AUTH).expect(200);
      expect(listed).to.be.at.most(1);
      expect(opened).to.be.at.most(1);
    } finally {
      hub.viewerTotals = totals;
      hub.eventsOpen = eventsOpen;
    }
  });
});

describe('abuse: /metrics on METRICS_PORT, and nowhere without a port or token', () => {
  it('serves /metrics on its own port only, 404 on the main port', async () => {
    const t = await startTestServer({ METRICS_TOKEN: '', METRICS_PORT: '0' });
    try {
      expect(t.service.metricsUrl).to.be.a('string');
      expect((await fetch(`${t.url}/metrics`)).status).to.equal(404);
      const res = await fetch(`${t.service.metricsUrl!}/metrics`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.contain('holdline_held_polls');
      expect((await fetch(`${t.service.metricsUrl!}/events`)).status).to.equal(404);
    } finally {
      await t.close();
    }
  });

  it('is not served at all by a production server with neither', async () => {
    const t = await startTestServer({ METRICS_TOKEN: '' });
    try {
      expect((await fetch(`${t.url}/metrics`)).status).to.equal(404);
      expect((await fetch(`${t.url}/metrics`, { headers: METRICS_AUTH })).status).to.equal(404);
    } finally {
      await t.close();
    }
  });
});

describe('abuse: the edges', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  it('verifies a refused token once, not once on the fast path and again in Koa', async () => {
    const id = freshId('refused');
    await createEvent(h, id);
    const auth = h.service.auth;
    const verify = auth.verify.bind(auth);
    let checks = 0;
    auth.verify = (token) => ((checks += 1), verify(token));
    try {
      const forged = `${h.adminToken.slice(0, -4)}AAAA`;
      const poll = await h.http().get(`/events/${id}/poll`).set('Authorization', `Bearer ${forged}`);
      expect(poll.status).to.equal(401);
      expect(poll.body.error.code).to.equal('invalid_token');
      expect(checks, 'poll').to.equal(1);
      checks = 0;
      const react = await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${forged}`).send({ emoji: '👏' });
      expect(react.status).to.equal(401);
      expect(checks, 'reaction').to.equal(1);
    } finally {
      auth.verify = verify;
    }
  });

  it('wraps only API answers as JSONP: a static script is served as itself', async () => {
    const widget = await h.http().get('/widget.js?callback=cb');
    expect(widget.status).to.equal(200);
    expect(widget.text.startsWith('/**/cb(')).to.equal(false);
    const id = freshId('jsonp');
    await createEvent(h, id);
    const api = await h.http().get(`/events/${id}?callback=cb`);
    expect(api.text.startsWith('/**/cb({"status":200')).to.equal(true);
  });

  it('refuses bidi overrides and control characters in chat, comments and token names', async () => {
    const id = freshId('bidi');
    await createEvent(h, id, { state: 'live' });
    const fan = await h.token({ sub: 'fan-bidi', name: 'Fan' });
    for (const text of ['gg \u202Egnp.exe', 'a\u2066b\u2069', 'bell\u0007']) {
      const chat = await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${fan}`).send({ text });
      expect(chat.status, JSON.stringify(text)).to.equal(400);
      expect(chat.body.error.field).to.equal('text');
      const react = await h.http().post(`/events/${id}/reactions`).send({ emoji: '👏', comment: text });
      expect(react.status, JSON.stringify(text)).to.equal(400);
      expect(react.body.error.field).to.equal('comment');
    }
    const spoofed = await h.token({ sub: 'fan-rlo', name: 'nimda\u202E' });
    const chat = await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${spoofed}`).send({ text: 'hi' });
    expect(chat.status).to.equal(401);
    expect(chat.body.error.code).to.equal('invalid_token');
    // Right-to-left writing still passes, marks included.
    const rtl = await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${fan}`).send({ text: 'שלום \u200Fעולם' });
    expect(rtl.status).to.equal(201);
  });

  it('counts presence for the anonymous event list once per second, not per request, and shows changes at once', async () => {
    const store = h.service.store;
    const count = store.countPresence.bind(store);
    let counted = 0;
    store.countPresence = (e, now) => ((counted += 1), count(e, now));
    try {
      h.clock.advance(2000);
      await h.http().get('/events').expect(200);
      const first = counted;
      expect(first).to.be.above(0);
      for (let i = 0; i < 5; i++) await h.http().get('/events').expect(200);
      expect(counted).to.equal(first);
      const id = freshId('listed');
      await createEvent(h, id);
      const list = (await h.http().get('/events').expect(200)).body.events as Array<{ id: string }>;
      expect(list.map((e) => e.id)).to.include(id);
    } finally {
      store.countPresence = count;
    }
  });

  it('serves no demo page unless started with --demo', async () => {
    expect((await h.http().get('/demo/')).status).to.equal(404);
    expect((await h.http().get('/demo/chess.html')).status).to.equal(404);
    expect((await h.http().get('/')).status).to.equal(404);
    expect((await h.http().get('/widget.js')).status).to.equal(200);
  });
});

describe('abuse: logs and sockets', () => {
  it("keeps a fast path's 5xx error line free of the raw query string", async () => {
    const logs = new LogCapture();
    const t = await startTestServer({}, { logs });
    try {
      const id = freshId('boom');
      await fetch(`${t.url}/events/${id}`, { method: 'PUT', headers: { Authorization: `Bearer ${t.adminToken}`, 'Content-Type': 'application/json' }, body: '{}' });
      const store = t.service.store;
      const read = store.read.bind(store);
      store.read = () => Promise.reject(new Error('store down'));
      try {
        const res = await fetch(`${t.url}/events/${id}/poll?viewer=secret-viewer-77&cursor=zzz-1`);
        expect(res.status).to.equal(500);
      } finally {
        store.read = read;
      }
      const failed = logs.find('request failed');
      expect(failed.length).to.equal(1);
      expect(JSON.stringify(failed[0])).to.not.contain('secret-viewer-77');
      expect(failed[0]).to.not.have.property('querystring');
    } finally {
      await t.close();
    }
  });

  it('closes connections beyond MAX_CONNECTIONS at accept, and takes new ones once others close', async () => {
    const settings = storeSettings();
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, METRICS_TOKEN: TEST_METRICS_TOKEN, LOG_LEVEL: 'silent', MAX_CONNECTIONS: '2', ...settings });
    const service = await startService(config);
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect(service.port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      });
    const answer = (s: net.Socket): Promise<string> =>
      new Promise((resolve) => {
        let got = '';
        s.on('data', (c) => (got += c.toString()));
        s.once('close', () => resolve(got));
        s.on('error', () => undefined);
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
    try {
      const a = await open();
      const b = await open();
      await new Promise((r) => setTimeout(r, 50));
      const c = await open();
      expect(await answer(c), 'the third connection is closed unanswered').to.equal('');
      a.destroy();
      await new Promise((r) => setTimeout(r, 50));
      expect(await answer(await open())).to.match(/^HTTP\/1\.1 200/);
      b.destroy();
    } finally {
      await service.close();
      await purgeStore(settings);
    }
  });
});
