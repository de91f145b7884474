import { expect } from 'chai';
import { FakeTimers, FakeTransport, loadHoldline, MemoryStorage, subsOf } from './support/holdline-vm.js';

const HL = loadHoldline();
const HOLD = 'timeout=25, min=0, max=60';
const PROXY_504 = { fromServer: false };

function answer(event: string, cursor: string, fields: Record<string, unknown> = {}) {
  return { event, cursor, deltas: [], more: false, viewers: 1, reset: false, ended: false, ...fields };
}
const snapshot = { seq: 1, meta: { title: 't', sport: 'chess', visibility: 'public' }, state: 'live', score: {}, chat: [], reactions: { totals: {} } };

/** A started client on fake timers, joined (the join answer carries `hold`). */
function joined(options: Partial<Holdline.Options> = {}, hold: string | null = HOLD) {
  const timers = new FakeTimers();
  const transport = new FakeTransport();
  const storage = (options.storage as MemoryStorage | undefined) ?? new MemoryStorage();
  const client = HL.create({
    baseUrl: 'http://hub.test',
    events: ['m1'],
    transport: transport.fn,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    now: () => timers.now,
    random: () => 0.5,
    sameOrigin: false,
    document: null,
    window: null,
    storage,
    ...options,
  });
  const states: string[] = [];
  const errors: Holdline.ClientError[] = [];
  const cuts: Holdline.CutInfo[] = [];
  client.on('state', (s) => states.push(s));
  client.on('error', (e) => errors.push(e));
  client.on('cut', (c) => cuts.push(c));
  client.start();
  timers.advance(0);
  transport.last.respond(200, { results: [answer('m1', 'e-1', { snapshot })] }, null, { hold });
  timers.advance(0);
  return { client, timers, transport, storage, states, errors, cuts };
}

const timeoutOf = (url: string) => new URL(url).searchParams.get('timeout');

describe('holdline.js: holds that fit the path', () => {
  it('asks for the hold the server advertises and gives up on a poll ten seconds after it', () => {
    const { transport, timers } = joined({}, 'timeout=50, min=0, max=90');
    expect(timeoutOf(transport.last.req.url)).to.equal('50');
    expect(timers.pending()).to.deep.equal([60_000]);
  });

  it('retries a poll cut after a long hold at once, with 0.8 of the age it was cut at, still live, with no error', () => {
    const { client, transport, timers, states, errors, cuts } = joined();
    const held = transport.last;
    timers.advance(10_000);
    held.respond(504, null, null, PROXY_504);
    // At once: nothing waits but the retry, due now; then only its give-up timer is pending.
    expect(timers.pending()).to.deep.equal([0]);
    timers.advance(0);
    expect(transport.last).to.not.equal(held);
    expect(subsOf(transport.last.req.url)).to.equal('m1@e-1');
    expect(timeoutOf(transport.last.req.url)).to.equal('8');
    expect(timers.pending()).to.deep.equal([18_000]);
    expect(client.state).to.equal('live');
    expect(states).to.not.include('backoff');
    expect(errors).to.deep.equal([]);
    expect(cuts).to.deep.equal([{ status: 504, afterMs: 10_000, holdMs: 25_000, nextHoldMs: 8000 }]);
    expect(client.stats.cuts).to.equal(1);
    // 8 s fits: a quiet answer at its end, and the next poll asks for 8 s again.
    timers.advance(8000);
    transport.last.respond(200, { results: [answer('m1', 'e-1')] }, null, { hold: HOLD });
    timers.advance(0);
    expect(timeoutOf(transport.last.req.url)).to.equal('8');
  });

  it('takes a network error after a long wait as a cut too, and never goes below the floor', () => {
    const { transport, timers, client } = joined({ holds: { floorMs: 5000 } });
    timers.advance(3000);
    transport.last.respond(0, null);
    timers.advance(0);
    expect(timeoutOf(transport.last.req.url)).to.equal('5');
    expect(client.state).to.equal('live');
  });

  it('does not raise the backoff for cuts: a fast failure after three cuts waits the first step', () => {
    const { transport, timers, client } = joined();
    for (let i = 0; i < 3; i++) {
      timers.advance(6000);
      transport.last.respond(502, null, null, PROXY_504);
      timers.advance(0);
    }
    transport.last.respond(0, null);
    expect(client.state).to.equal('backoff');
    expect(timers.pending()).to.deep.equal([750]);
  });

  it('backs off with a growing, jittered step on failures that come fast, whatever their status', () => {
    const { transport, timers, errors } = joined();
    const waits: number[] = [];
    for (const status of [502, 0, 504, 500]) {
      transport.last.respond(status, null, null, PROXY_504);
      waits.push(timers.pending()[0]!);
      timers.advance(waits[waits.length - 1]!);
    }
    expect(waits).to.deep.equal([750, 1500, 3000, 6000]);
    expect(errors.map((e) => e.retryInMs)).to.deep.equal(waits);
  });

  it('honours Retry-After on every status that carries it, and the server’s own 503 is never a cut', () => {
    const { transport, timers, client } = joined();
    timers.advance(20_000);
    transport.last.respond(502, null, '9', PROXY_504);
    expect(timers.pending()).to.deep.equal([9000]);
    timers.advance(9000);
    timers.advance(20_000);
    transport.last.respond(503, { error: { code: 'unavailable', message: 'x' } }, null, { hold: HOLD });
    expect(client.state).to.equal('backoff');
    expect(client.stats.cuts).to.equal(0);
    expect(timers.pending()[0]).to.equal(1500);
  });

  it('pins the hold with holdMs: sent as it is (within the server’s max), cuts still retried at once, never shortened', () => {
    const { transport, timers, client } = joined({ holdMs: 70_000 });
    expect(timeoutOf(transport.last.req.url)).to.equal('60');
    timers.advance(30_000);
    transport.last.respond(504, null, null, PROXY_504);
    timers.advance(0);
    expect(timeoutOf(transport.last.req.url)).to.equal('60');
    expect(client.holdMs()).to.equal(60_000);
    expect(client.stats.cuts).to.equal(1);
  });

  it('remembers the fit per origin, for the next page of that origin only', () => {
    const first = joined();
    first.timers.advance(20_000);
    first.transport.last.respond(504, null, null, PROXY_504);
    first.timers.advance(0);
    expect(timeoutOf(first.transport.last.req.url)).to.equal('16');
    const again = joined({ storage: first.storage });
    expect(timeoutOf(again.transport.last.req.url)).to.equal('16');
    const elsewhere = joined({ storage: first.storage, baseUrl: 'http://other.test' });
    expect(timeoutOf(elsewhere.transport.last.req.url)).to.equal('25');
    // Without storage (holds.remember false), nothing is kept.
    const blind = joined({ storage: null });
    expect(blind.client.holdMs()).to.equal(25_000);
  });

  it('probes a longer hold every probeMs: kept when it is held to its end, dropped back when it is cut', () => {
    const { transport, timers } = joined({ holds: { probeMs: 60_000 } });
    timers.advance(10_000);
    transport.last.respond(504, null, null, PROXY_504);
    timers.advance(0);
    const quiet = (ms: number) => {
      timers.advance(ms);
      transport.last.respond(200, { results: [answer('m1', 'e-1')] }, null, { hold: HOLD });
      timers.advance(0);
    };
    const asked: string[] = [];
    for (let i = 0; i < 8; i++) {
      asked.push(timeoutOf(transport.last.req.url)!);
      quiet(8000);
    }
    // 64 s after the cut the probe asks for 1.5 × 8 s; the path cuts it at 10 s again.
    asked.push(timeoutOf(transport.last.req.url)!);
    expect(asked).to.deep.equal(['8', '8', '8', '8', '8', '8', '8', '8', '12']);
    timers.advance(10_000);
    transport.last.respond(504, null, null, PROXY_504);
    timers.advance(0);
    expect(timeoutOf(transport.last.req.url)).to.equal('8');
    // Later the path allows more: the next probe is held to its end and becomes the hold.
    for (let i = 0; i < 8; i++) quiet(8000);
    expect(timeoutOf(transport.last.req.url)).to.equal('12');
    quiet(12_000);
    expect(timeoutOf(transport.last.req.url)).to.equal('12');
  });

  it('forgets what a cut taught when its retry fails fast: the server went away mid-hold, the path is as it was', () => {
    const { transport, timers, client, storage } = joined();
    timers.advance(12_000);
    transport.last.respond(502, null, null, PROXY_504);
    timers.advance(0);
    expect(client.holdMs()).to.equal(9600);
    transport.last.respond(502, null, null, PROXY_504);
    expect(client.state).to.equal('backoff');
    expect(client.holdMs()).to.equal(25_000);
    expect([...storage.items.values()]).to.deep.equal([]);
    // A cut whose retry is answered is a cut: it is kept.
    timers.advance(timers.pending()[0]!);
    transport.last.respond(200, { results: [answer('m1', 'e-1')] }, null, { hold: HOLD });
    timers.advance(0);
    timers.advance(10_000);
    transport.last.respond(504, null, null, PROXY_504);
    timers.advance(0);
    transport.last.respond(200, { results: [answer('m1', 'e-1')] }, null, { hold: HOLD });
    timers.advance(0);
    transport.last.respond(0, null);
    expect(client.holdMs()).to.equal(8000);
  });

  it('reads the Holdline-Hold header', () => {
    expect(HL.parseHoldHeader('timeout=25, min=0, max=60')).to.deep.equal({ timeoutMs: 25_000, minMs: 0, maxMs: 60_000 });
    expect(HL.parseHoldHeader('timeout=0.5,max=2.25')).to.deep.equal({ timeoutMs: 500, minMs: 0, maxMs: 2250 });
    expect(HL.parseHoldHeader('soon')).to.equal(null);
    expect(HL.parseHoldHeader(null)).to.equal(null);
  });
});
