import { expect } from 'chai';
import type { MultiPollAnswer, PollAnswer } from '../lib/protocol.js';
import { createEvent, freshId, postScore, startHarness, waitFor, type Harness } from './support/harness.js';
import { openWs, type WsClient } from './support/streams.js';

// The WebSocket transport at /realtime (docs/PROTOCOL.md, "Streams"): run on both stores.

const SETTINGS = { HOLD_TIMEOUT_MS: '2000', MAX_HOLD_MS: '3000', RING_SIZE: '8', MAX_BATCH: '3', STREAM_HEARTBEAT_MS: '100', CORS_ORIGINS: 'https://fans.example', RATE_REACTIONS: '3/10' };

type End = { type: 'end'; reason: string; resume: string | null; advice?: { retryMs: number } };
type Refusal = { type: 'error'; ref?: string; status: number; error: { code: string; field?: string } };

describe('WebSocket /realtime', () => {
  let h: Harness;
  const open: WsClient[] = [];
  before(async () => {
    h = await startHarness(SETTINGS);
  });
  after(async () => {
    await h.close();
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.ws.terminate();
    await waitFor(() => h.hub.streams('ws') === 0, 'sockets to close');
  });
  const ws = async (query = '', options: Parameters<typeof openWs>[1] = {}) => {
    const c = await openWs(`${h.url.replace('http', 'ws')}/realtime${query}`, options);
    open.push(c);
    return c;
  };
  const refused = async (query: string, options: Parameters<typeof openWs>[1] = {}) => {
    try {
      await ws(query, options);
    } catch (err) {
      return err as Error & { status: number; body: { error: { code: string; field?: string } } };
    }
    throw new Error('the upgrade was accepted');
  };

  it('acknowledges the seeds\' {"id", "eventId"} with the snapshot, cursor and viewer count, then pushes deltas', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    await postScore(h, id, { data: { home: 1 } });
    const c = await ws();
    c.send({ id: 'fan-1', eventId: id });
    const ack = await c.nextOf<PollAnswer>('answer');
    expect(ack.snapshot?.score).to.deep.equal({ home: 1 });
    expect(ack.cursor).to.match(/-1\.[0-9a-f]{8}$/);
    expect(ack.viewers).to.equal(1);
    const { cursor } = await postScore(h, id, { data: { home: 2 } });
    const pushed = await c.nextOf<PollAnswer>('answer');
    expect(pushed.cursor).to.equal(cursor);
    expect(pushed.deltas.map((d) => d.seq)).to.deep.equal([2]);
    expect(h.hub.streams('ws')).to.equal(1);
  });

  it('resumes by cursor on a new socket, exactly after it', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const first = await postScore(h, id, { data: { n: 1 } });
    for (let n = 2; n <= 5; n++) await postScore(h, id, { data: { n } });
    const c = await ws();
    c.send({ id: 'fan-2', eventId: id, cursor: first.cursor });
    const a = await c.nextOf<PollAnswer>('answer');
    const b = await c.nextOf<PollAnswer>('answer');
    expect([...a.deltas, ...b.deltas].map((d) => d.seq)).to.deep.equal([2, 3, 4, 5]);
    expect(a.more).to.equal(true);
  });

  it('answers a cursor of another epoch with a reset (missed null)', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    await postScore(h, id, { data: { n: 1 } });
    const c = await ws();
    c.send({ eventId: id, cursor: 'zzzzzz-1' });
    const reset = await c.nextOf<PollAnswer>('answer');
    expect(reset.reset).to.equal(true);
    expect(reset.missed).to.equal(null);
  });

  it('follows several events with a subscribe, and replaces the follow on a second one', async () => {
    const a = freshId();
    const b = freshId();
    await createEvent(h, a, { state: 'live' });
    await createEvent(h, b, { state: 'live' });
    const c = await ws();
    c.send({ type: 'subscribe', id: 'fan-3', subs: { [a]: null, [b]: null } });
    const ack = await c.nextOf<MultiPollAnswer>('answer');
    expect(ack.results.map((r) => r.event)).to.deep.equal([a, b]);
    await postScore(h, b, { data: { x: 1 } });
    const pushed = await c.nextOf<MultiPollAnswer>('answer');
    expect((pushed.results[1] as PollAnswer).deltas.map((d) => d.seq)).to.deep.equal([1]);
    c.send({ eventId: a });
    const single = await c.nextOf<PollAnswer>('answer');
    expect(single.event).to.equal(a);
    expect(h.hub.streams('ws')).to.equal(1);
  });

  it('refuses a bad follow with an error message and keeps the socket', async () => {
    const c = await ws();
    c.send({ eventId: freshId() });
    const missing = await c.nextOf<Refusal>('error');
    expect(missing.status).to.equal(404);
    c.send({ eventId: 'x', bogus: 1, ref: 'r1' });
    const bad = await c.nextOf<Refusal>('error');
    expect(bad).to.deep.include({ ref: 'r1', status: 400 });
    expect(bad.error.field).to.equal('bogus');
    c.send('not json');
    expect((await c.nextOf<Refusal>('error')).error.code).to.equal('invalid_json');
    c.send({ type: 'ping', ref: 'p' });
    expect(await c.nextOf('pong')).to.deep.equal({ type: 'pong', ref: 'p' });
  });

  it('takes reactions and chat through the HTTP routes\' validation and rate limits', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const token = await h.token({ sub: 'talker', name: 'Talker' });
    const c = await ws(`?access_token=${token}`);
    c.send({ eventId: id });
    await c.nextOf('answer');
    c.send({ type: 'reaction', ref: 'a', emoji: '🔥', comment: 'lesssgoooo' });
    expect(await c.nextOf('ack')).to.deep.equal({ type: 'ack', ref: 'a', status: 202, body: { accepted: true } });
    c.send({ type: 'reaction', ref: 'b', emoji: 'not an emoji at all' });
    const bad = await c.nextOf<Refusal>('error');
    expect(bad).to.deep.include({ ref: 'b', status: 400 });
    expect(bad.error.field).to.equal('emoji');
    c.send({ type: 'reaction', ref: 'c', emoji: '👏' });
    await c.nextOf('ack');
    c.send({ type: 'reaction', ref: 'd', emoji: '👏' });
    await c.nextOf('ack');
    c.send({ type: 'reaction', ref: 'e', emoji: '👏' });
    const limited = await c.nextOf<Refusal & { retryAfterS: number }>('error');
    expect(limited.status).to.equal(429);
    expect(limited.retryAfterS).to.be.at.least(1);
    c.send({ type: 'chat', ref: 'f', text: '  what a goal!  ' });
    const said = await c.nextOf<{ status: number; body: { seq: number } }>('ack');
    expect(said.status).to.equal(201);
    const pushed = await c.nextOf<PollAnswer>('answer');
    expect(pushed.deltas[0]).to.deep.include({ kind: 'chat', text: 'what a goal!', user: { id: 'talker', name: 'Talker' } });
    const anonymous = await ws();
    anonymous.send({ type: 'chat', eventId: id, text: 'hi' });
    expect((await anonymous.nextOf<Refusal>('error')).status).to.equal(401);
  });

  it('takes the token from access_token, Authorization or a bearer.<token> subprotocol, and refuses a bad one', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live', visibility: 'private' });
    const token = await h.token({ sub: 'reader', events: [id] });
    const viaProtocol = await ws('', { protocols: ['holdline', `bearer.${token}`] });
    expect(viaProtocol.ws.protocol).to.equal('holdline');
    viaProtocol.send({ eventId: id });
    expect((await viaProtocol.nextOf<PollAnswer>('answer')).event).to.equal(id);
    const viaHeader = await ws('', { headers: { Authorization: `Bearer ${token}` } });
    viaHeader.send({ eventId: id });
    await viaHeader.nextOf('answer');
    const anonymous = await ws();
    anonymous.send({ eventId: id });
    expect((await anonymous.nextOf<Refusal>('error')).status).to.equal(401);
    const bad = await refused('?access_token=not.a.token');
    expect(bad.status).to.equal(401);
    expect(bad.body.error.code).to.equal('invalid_token');
    const twice = await refused(`?access_token=${token}`, { protocols: ['holdline', `bearer.${token}`] });
    expect(twice.status).to.equal(400);
  });

  it('refuses what any request is refused: another path, a repeated parameter, an origin CORS does not allow', async () => {
    expect((await refused('x')).status).to.equal(404);
    const repeated = await refused('?a=1&a=2');
    expect(repeated.status).to.equal(400);
    expect(repeated.body.error.field).to.equal('a');
    expect((await refused('', { origin: 'https://evil.example' })).status).to.equal(403);
    await ws('', { origin: 'https://fans.example' });
    await ws('', { origin: h.url });
  });

  it('ends the follow with its resume cursor at the token expiry, unless refreshed over the socket', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const short = await h.token({ sub: 'watcher' }, 60);
    const c = await ws(`?access_token=${short}`);
    c.send({ eventId: id });
    const ack = await c.nextOf<PollAnswer>('answer');
    const fresh = await h.token({ sub: 'watcher' }, 600);
    c.send({ type: 'auth', token: fresh, ref: 't' });
    const auth = await c.nextOf<{ expiresAt: number }>('auth');
    expect(auth.expiresAt).to.be.above(h.clock.now() + 500_000);
    const other = await h.token({ sub: 'someone-else' }, 600);
    c.send({ type: 'auth', token: other });
    expect((await c.nextOf<Refusal>('error')).status).to.equal(403);
    h.clock.advance(70_000);
    const { cursor } = await postScore(h, id, { data: { after: 'refresh' } });
    let pushed: PollAnswer;
    do pushed = await c.nextOf<PollAnswer>('answer');
    while (pushed.deltas.length === 0);
    expect(pushed.cursor).to.equal(cursor);

    const d = await ws(`?access_token=${await h.token({ sub: 'late' }, 60)}`);
    d.send({ eventId: id });
    await d.nextOf('answer');
    h.clock.advance(70_000);
    const end = await d.nextOf<End>('end');
    expect(end.reason).to.equal('expired');
    expect(end.resume).to.equal(cursor);
    expect((await d.closed).code).to.equal(4001);
    void ack;
  });

  it('pings, and cuts a client that answers no ping', async () => {
    const live = await ws();
    let pinged = false;
    live.ws.on('ping', () => (pinged = true));
    await waitFor(() => pinged, 'a ping');
    const dead = await openWs(`${h.url.replace('http', 'ws')}/realtime`, {});
    open.push(dead);
    await waitFor(() => h.service.realtime.size === 2, 'both sockets on the server');
    // Stop answering: no pongs (ws answers pings itself unless its socket stops reading).
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(() => h.service.realtime.size === 1, 'the silent socket to be cut');
    expect(live.ws.readyState).to.equal(live.ws.OPEN);
  });
});

describe('WebSocket limits and drain', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it('closes a consumer that does not keep up with 4008, its end message carrying the resume cursor', async () => {
    h = await startHarness({ STREAM_BUFFER_BYTES: '1024', MAX_BODY_BYTES: '1048576', RING_SIZE: '64', MAX_BATCH: '1' });
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const c = await openWs(`${h.url.replace('http', 'ws')}/realtime`);
    c.send({ eventId: id });
    await c.nextOf('answer');
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    const blob = 'x'.repeat(512 * 1024);
    for (let n = 0; n < 40 && h.hub.streams('ws') > 0; n++) await postScore(h, id, { data: { n, blob } });
    await waitFor(() => h!.hub.streams('ws') === 0, 'the slow socket to be cut');
    socket.resume();
    let last: string | null = null;
    let end: End | null = null;
    for (;;) {
      const m = await c.next<PollAnswer & End>(20_000);
      if (m === null) break;
      if (m.type === 'end') end = m;
      else if (m.cursor) last = m.cursor;
    }
    expect(end?.reason).to.equal('slow');
    expect(end?.resume).to.equal(last);
    expect((await c.closed).code).to.equal(4008);
  });

  it('counts sockets that follow against MAX_HELD_PER_ADDRESS', async () => {
    h = await startHarness({ MAX_HELD_PER_ADDRESS: '1' });
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const a = await openWs(`${h.url.replace('http', 'ws')}/realtime`);
    a.send({ eventId: id });
    await a.nextOf('answer');
    const b = await openWs(`${h.url.replace('http', 'ws')}/realtime`);
    b.send({ eventId: id });
    const refusal = await b.nextOf<Refusal & { retryAfterS: number }>('error');
    expect(refusal.status).to.equal(429);
    a.ws.terminate();
    b.ws.terminate();
  });

  it('on drain, tells every socket to come back with its resume cursor and retry advice, then closes 1012', async () => {
    h = await startHarness({ HOLD_TIMEOUT_MS: '60000' });
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const following = await openWs(`${h.url.replace('http', 'ws')}/realtime`);
    following.send({ eventId: id });
    const ack = await following.nextOf<PollAnswer>('answer');
    const idle = await openWs(`${h.url.replace('http', 'ws')}/realtime`);
    const closing = h.close();
    h = null;
    const end = await following.nextOf<End>('end');
    expect(end.reason).to.equal('drain');
    expect(end.resume).to.equal(ack.cursor);
    expect(end.advice?.retryMs).to.be.a('number').within(0, 1000);
    expect((await following.closed).code).to.equal(1012);
    expect((await idle.nextOf<End>('end')).reason).to.equal('drain');
    expect((await idle.closed).code).to.equal(1012);
    await closing;
  });
});
