import { expect } from 'chai';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * Every answer advertises the server's holds (docs/PROTOCOL.md, "Holds that fit the path"):
 * a client learns them from its join, and tells a proxy's error page (which lacks the header)
 * from the server's own answers.
 */
describe('Holdline-Hold: the hold advertised on every answer', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ HOLD_TIMEOUT_MS: '50000', MAX_HOLD_MS: '90000', CORS_ORIGINS: 'https://page.example' });
    const res = await fetch(`${t.url}/events/m1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'One', sport: 'football', state: 'live' }),
    });
    expect(res.status).to.equal(201);
  });
  after(() => t.close());

  const ADVERT = 'timeout=50, min=0, max=90';

  it('is on the join, polls held and answered at once (both poll paths), the multi-event poll and JSONP', async () => {
    const join = await fetch(`${t.url}/events/m1/join`, { method: 'POST' });
    expect(join.status).to.equal(200);
    expect(join.headers.get('holdline-hold')).to.equal(ADVERT);
    const cursor = ((await join.json()) as { cursor: string }).cursor;
    // The fast path (plain query) and Koa (an escaped query) answer a held poll alike.
    for (const q of [`cursor=${cursor}&timeout=0.2`, `cursor=${encodeURIComponent(cursor)}&timeout=0%2E2`]) {
      const res = await fetch(`${t.url}/events/m1/poll?${q}`);
      expect(res.status, q).to.equal(200);
      expect(res.headers.get('holdline-hold'), q).to.equal(ADVERT);
    }
    const multi = await fetch(`${t.url}/poll?subs=m1&timeout=0`);
    expect(multi.headers.get('holdline-hold')).to.equal(ADVERT);
    const jsonp = await fetch(`${t.url}/events/m1/poll?callback=cb`);
    expect(jsonp.headers.get('holdline-hold')).to.equal(ADVERT);
  });

  it('is on refusals, from Koa and from the poll fast path, and on other resources', async () => {
    for (const path of ['/events/nope/poll', '/events/m1/poll?timeout=soon', '/no-such-route', '/events', '/healthz']) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.headers.get('holdline-hold'), path).to.equal(ADVERT);
    }
  });

  it('is readable by an allowed cross-origin page', async () => {
    const res = await fetch(`${t.url}/events/m1/poll?timeout=0`, { headers: { origin: 'https://page.example' } });
    expect(res.headers.get('access-control-expose-headers')).to.contain('Holdline-Hold');
  });

  it('says the join advice’s range too, for clients that cannot read headers', async () => {
    const body = (await (await fetch(`${t.url}/events/m1/join`, { method: 'POST' })).json()) as { advice: unknown };
    expect(body.advice).to.deep.equal({ timeoutMs: 50_000, maxTimeoutMs: 90_000, retryMs: 1000 });
  });
});
