import { expect } from 'chai';
import { FakeTimers, FakeTransport, loadHoldline, subsOf } from './support/holdline-vm.js';

const HL = loadHoldline();

function ok(event: string, cursor: string, seq: number) {
  const snapshot = { seq, meta: { title: 't', sport: 'chess', visibility: 'public' }, state: 'live', score: {}, chat: [], reactions: { totals: {} } };
  return { results: [{ event, cursor, deltas: [], more: false, viewers: 1, reset: false, ended: false, snapshot }] };
}

/** A JWT-shaped token (unsigned: the client never verifies, it only reads exp). */
function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;
}

function setup(options: Partial<Holdline.Options> = {}, random = 0.5) {
  const timers = new FakeTimers();
  const transport = new FakeTransport();
  const client = HL.create({
    baseUrl: 'http://hub.test',
    events: ['m1'],
    transport: transport.fn,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    now: () => timers.now,
    random: () => random,
    sameOrigin: false,
    document: null,
    window: null,
    ...options,
  });
  return { client, timers, transport };
}

describe('holdline.js: backoff', () => {
  it('grows exponentially with jitter between half and the whole step, capped', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const step = Math.min(30_000, 1000 * 2 ** attempt);
      expect(HL.backoffDelay(attempt, 1000, 30_000, () => 0)).to.equal(step / 2);
      expect(HL.backoffDelay(attempt, 1000, 30_000, () => 0.999_999)).to.be.within(step - 1, step);
      const any = HL.backoffDelay(attempt, 1000, 30_000, Math.random);
      expect(any).to.be.within(step / 2, step);
    }
    expect(HL.backoffDelay(1000, 1000, 30_000, () => 1)).to.equal(30_000);
  });

  it('waits one growing step after each failed poll and starts over after a success', () => {
    const { client, timers, transport } = setup({}, 0);
    client.start();
    timers.advance(0);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      transport.last.respond(500, { error: { code: 'internal', message: 'x' } });
      waits.push(timers.pending()[0]!);
      timers.advance(waits[waits.length - 1]!);
    }
    expect(waits).to.deep.equal([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
    expect(client.state).to.equal('backoff');
    transport.last.respond(200, ok('m1', 'e-1', 1));
    expect(client.state).to.equal('live');
    timers.advance(0);
    transport.last.respond(0, null);
    expect(timers.pending()[0]).to.equal(500);
  });

  it('honours Retry-After on 429 and 503 even when the backoff step is shorter', () => {
    const { client, timers, transport } = setup();
    client.start();
    timers.advance(0);
    transport.last.respond(503, { error: { code: 'draining', message: 'x' } }, '7');
    expect(timers.pending()).to.deep.equal([7000]);
    timers.advance(7000);
    transport.last.respond(429, { error: { code: 'rate_limited', message: 'x' } }, new Date(timers.now + 12_000).toUTCString());
    expect(timers.pending()[0]).to.be.within(11_000, 12_000);
    expect(HL.retryAfterMs('3', 0)).to.equal(3000);
    expect(HL.retryAfterMs('soon', 0)).to.equal(null);
  });
});

describe('holdline.js: tokens', () => {
  it('refreshes after a 401 and retries the same cursor with the new token', () => {
    const calls: string[] = [];
    const { client, timers, transport } = setup({
      token: 'old',
      getToken: (done, reason) => {
        calls.push(reason);
        done(null, 'new');
      },
    });
    client.start();
    timers.advance(0);
    expect(transport.last.req.headers['Authorization']).to.equal('Bearer old');
    transport.last.respond(200, ok('m1', 'e-41', 41));
    timers.advance(0);
    transport.last.respond(401, { error: { code: 'invalid_token', message: 'expired' } });
    timers.advance(0);
    expect(calls).to.deep.equal(['unauthorized']);
    expect(transport.last.req.headers['Authorization']).to.equal('Bearer new');
    expect(subsOf(transport.last.req.url)).to.equal('m1@e-41');
    expect(client.model('m1')?.seq).to.equal(41);
  });

  it('asks for a token before the current one expires, without interrupting the held poll', async () => {
    const timers = new FakeTimers();
    const expSoon = jwt({ sub: 'ann', exp: Math.floor(timers.now / 1000) + 120 });
    const asked: string[] = [];
    const { client, transport } = setup({
      now: () => timers.now,
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
      token: expSoon,
      getToken: (_done, reason) => {
        asked.push(reason);
        return Promise.resolve(jwt({ sub: 'ann', exp: Math.floor(timers.now / 1000) + 3600 }));
      },
    });
    client.start();
    timers.advance(0);
    transport.last.respond(200, ok('m1', 'e-1', 1));
    const idle = { results: [{ event: 'm1', cursor: 'e-1', deltas: [], more: false, viewers: 1, reset: false, ended: false }] };
    // The server answers each held poll empty after its 25 s hold.
    for (let t = 0; t < 75_000; t += 25_000) {
      timers.advance(0);
      timers.advance(25_000);
      transport.last.respond(200, idle);
    }
    timers.advance(0);
    const held = transport.last;
    timers.advance(14_000); // 89 s since start
    expect(asked).to.deep.equal([]);
    timers.advance(1000); // 30 s before exp
    expect(asked).to.deep.equal(['expiring']);
    await Promise.resolve();
    expect(held.aborted).to.equal(false);
    held.respond(200, idle);
    timers.advance(0);
    expect(transport.last.req.headers['Authorization']).to.match(/^Bearer /);
    expect(transport.last.req.headers['Authorization']).to.not.equal(`Bearer ${expSoon}`);
    expect(subsOf(transport.last.req.url)).to.equal('m1@e-1');
  });

  it('reads exp from a JWT and nothing from what is not one', () => {
    expect(HL.tokenExpiry(jwt({ exp: 2_000_000_000 }))).to.equal(2_000_000_000_000);
    expect(HL.tokenExpiry('opaque')).to.equal(null);
  });
});

describe('holdline.js: JSONP fallback', () => {
  it('decides to try JSONP only for an undecided cross-origin XHR that got status 0', () => {
    const base = { option: 'auto', mode: 'xhr', status: 0, xhrEverOk: false, sameOrigin: false };
    expect(HL.shouldTryJsonp(base)).to.equal(true);
    expect(HL.shouldTryJsonp({ ...base, status: 503 })).to.equal(false);
    expect(HL.shouldTryJsonp({ ...base, xhrEverOk: true })).to.equal(false);
    expect(HL.shouldTryJsonp({ ...base, sameOrigin: true })).to.equal(false);
    expect(HL.shouldTryJsonp({ ...base, option: 'xhr' })).to.equal(false);
    expect(HL.shouldTryJsonp({ ...base, mode: 'jsonp' })).to.equal(false);
  });

  it('switches to JSONP when CORS refuses the page, and stays there with the token in the query', () => {
    const { client, timers, transport } = setup({ token: 'tok' });
    const switched: string[] = [];
    client.on('transport', (m) => switched.push(m));
    client.start();
    timers.advance(0);
    expect(transport.last.req.mode).to.equal('xhr');
    transport.last.respond(0, null);
    expect(transport.last.req.mode).to.equal('jsonp');
    expect(transport.last.req.url).to.contain('access_token=tok');
    expect(transport.last.req.headers).to.deep.equal({});
    transport.last.respond(200, ok('m1', 'e-1', 1));
    expect(switched).to.deep.equal(['jsonp']);
    expect(client.transport()).to.equal('jsonp');
    timers.advance(0);
    expect(transport.last.req.mode).to.equal('jsonp');
    expect(subsOf(transport.last.req.url)).to.equal('m1@e-1');
  });

  it('stays on XHR and backs off when the server is simply down', () => {
    const { client, timers, transport } = setup();
    client.start();
    timers.advance(0);
    transport.last.respond(200, ok('m1', 'e-1', 1));
    timers.advance(0);
    const count = transport.sent.length;
    transport.last.respond(0, null);
    expect(transport.sent.length).to.equal(count);
    expect(client.transport()).to.equal('xhr');
    expect(timers.pending()).to.deep.equal([750]);
  });

  it('keeps trying XHR first while both XHR and JSONP fail (nothing is decided yet)', () => {
    const { client, timers, transport } = setup();
    client.start();
    timers.advance(0);
    transport.last.respond(0, null);
    transport.last.respond(0, null);
    expect(client.transport()).to.equal('xhr');
    timers.advance(timers.pending()[0]!);
    expect(transport.last.req.mode).to.equal('xhr');
  });
});

describe('holdline.js: page life', () => {
  it('pauses while the page is hidden and resumes from the same cursor', () => {
    const listeners: Record<string, () => void> = {};
    const doc = { visibilityState: 'visible', addEventListener: (t: string, fn: () => void) => void (listeners[t] = fn) };
    const { client, timers, transport } = setup({ pauseWhenHidden: true, document: doc });
    client.start();
    timers.advance(0);
    transport.last.respond(200, ok('m1', 'e-3', 3));
    timers.advance(0);
    const held = transport.last;
    doc.visibilityState = 'hidden';
    listeners['visibilitychange']!();
    expect(held.aborted).to.equal(true);
    expect(client.state).to.equal('paused');
    timers.advance(60_000);
    const count = transport.sent.length;
    doc.visibilityState = 'visible';
    listeners['visibilitychange']!();
    timers.advance(0);
    expect(transport.sent.length).to.equal(count + 1);
    expect(subsOf(transport.last.req.url)).to.equal('m1@e-3');
  });

  it('leaves every followed event with sendBeacon on pagehide', () => {
    const beacons: string[] = [];
    const listeners: Record<string, (e?: { persisted?: boolean }) => void> = {};
    const hl = loadHoldline({ navigator: { sendBeacon: (url: string) => (beacons.push(url), true) } });
    const timers = new FakeTimers();
    const transport = new FakeTransport();
    const client = hl.create({
      baseUrl: 'http://hub.test', events: ['m1', 'm2'], viewer: 'ann', token: 't0k', transport: transport.fn,
      setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, document: null,
      window: { addEventListener: (t: string, fn: (e?: { persisted?: boolean }) => void) => void (listeners[t] = fn) },
    });
    client.start();
    timers.advance(0);
    listeners['pagehide']!();
    expect(beacons).to.deep.equal([
      'http://hub.test/events/m1/leave?viewer=ann&access_token=t0k',
      'http://hub.test/events/m2/leave?viewer=ann&access_token=t0k',
    ]);
    expect(client.state).to.equal('paused');
  });
});
