import { expect } from 'chai';
import http from 'node:http';
import type { MultiPollAnswer, PollAnswer } from '../lib/protocol.js';
import { createEvent, freshId, postScore, startHarness, waitFor, type Harness } from './support/harness.js';
import { sample, scrape } from './support/metrics.js';
import { openSse, type SseClient } from './support/streams.js';

// Server-Sent Events on the poll core (docs/PROTOCOL.md, "Streams"): run on both stores.

const SETTINGS = { HOLD_TIMEOUT_MS: '2000', MAX_HOLD_MS: '3000', RING_SIZE: '8', MAX_BATCH: '3', STREAM_HEARTBEAT_MS: '100', CORS_ORIGINS: 'https://fans.example' };

describe('SSE streams', () => {
  let h: Harness;
  const open: SseClient[] = [];
  before(async () => {
    h = await startHarness(SETTINGS);
  });
  after(async () => {
    await h.close();
  });
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    await waitFor(() => h.hub.streams('sse') === 0, 'streams to close');
  });
  const sse = async (path: string, headers: Record<string, string> = {}) => {
    const c = await openSse(`${h.url}${path}`, headers);
    open.push(c);
    return c;
  };

  it('joins with the snapshot, then sends each answer as an event whose id is its cursor', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    await postScore(h, id, { data: { home: 1 } });
    const s = await sse(`/events/${id}/stream?viewer=v1`);
    expect(s.status).to.equal(200);
    expect(s.headers['content-type']).to.equal('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).to.equal('no-store');
    expect(s.headers['x-accel-buffering']).to.equal('no');
    const join = await s.json<PollAnswer>();
    expect(join.body.snapshot?.score).to.deep.equal({ home: 1 });
    expect(join.event.id).to.equal(join.body.cursor);
    expect(join.body.viewers).to.equal(1);
    const { cursor } = await postScore(h, id, { data: { home: 2 } });
    const next = await s.json<PollAnswer>();
    expect(next.event.id).to.equal(cursor);
    expect(next.body.deltas.map((d) => d.seq)).to.deep.equal([2]);
    expect(h.hub.streams('sse')).to.equal(1);
  });

  it('resumes exactly after Last-Event-ID, in batches of MAX_BATCH', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const first = await postScore(h, id, { data: { n: 1 } });
    for (let n = 2; n <= 6; n++) await postScore(h, id, { data: { n } });
    // The URL's cursor is where the stream began; Last-Event-ID (a reconnect) wins.
    const s = await sse(`/events/${id}/stream?cursor=${first.cursor.replace(/-\d+$/, '-0')}`, { 'Last-Event-ID': first.cursor });
    const a = await s.json<PollAnswer>();
    expect(a.body.deltas.map((d) => d.seq)).to.deep.equal([2, 3, 4]);
    expect(a.body.more).to.equal(true);
    const b = await s.json<PollAnswer>();
    expect(b.body.deltas.map((d) => d.seq)).to.deep.equal([5, 6]);
    expect(b.event.id).to.equal(b.body.cursor);
  });

  it('answers a cursor older than the ring with a reset, the snapshot and missed', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const { cursor } = await postScore(h, id, { data: { n: 1 } });
    for (let n = 2; n <= 12; n++) await postScore(h, id, { data: { n } });
    const s = await sse(`/events/${id}/stream?cursor=${cursor}`);
    const reset = await s.json<PollAnswer>();
    expect(reset.body.reset).to.equal(true);
    expect(reset.body.missed).to.equal(11);
    expect(reset.body.snapshot?.score).to.deep.equal({ n: 12 });
  });

  it('sends comment heartbeats while nothing happens', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const s = await sse(`/events/${id}/stream`);
    await s.json();
    const beat = await s.next({ comments: true });
    expect(beat?.comment).to.equal(true);
  });

  it('ends with an expired event at the token expiry, with its resume cursor', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live', visibility: 'private' });
    const token = await h.token({ sub: 'fan', events: [id] }, 60);
    const s = await sse(`/events/${id}/stream?access_token=${token}`);
    const join = await s.json<PollAnswer>();
    h.clock.advance(70_000);
    let end;
    do end = await s.json<{ reason: string; resume: string }>();
    while (end.event.event !== 'end');
    expect(end.body.reason).to.equal('expired');
    expect(end.body.resume).to.equal(join.body.cursor);
    await s.ended;
    // Reconnecting with the expired token is refused like a poll.
    const again = await sse(`/events/${id}/stream?access_token=${token}`, { 'Last-Event-ID': join.body.cursor });
    expect(again.status).to.equal(401);
  });

  it('refuses what a poll refuses, as JSON, before opening', async () => {
    const unknown = await sse(`/events/${freshId()}/stream`);
    expect(unknown.status).to.equal(404);
    expect(JSON.parse(unknown.body).error.code).to.equal('not_found');
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const bad = await sse(`/events/${id}/stream`, { 'Last-Event-ID': 'nope' });
    expect(bad.status).to.equal(400);
    expect(JSON.parse(bad.body).error).to.include({ code: 'invalid_cursor', field: 'Last-Event-ID' });
    // Like every GET refusal asked as JSONP: wrapped, HTTP 200, the real status inside.
    const jsonp = await sse(`/events/${id}/stream?callback=cb`);
    expect(jsonp.status).to.equal(200);
    expect(jsonp.body).to.match(/^\/\*\*\/cb\(\{"status":400,"error":\{"code":"invalid_request".*"field":"callback"/);
    const priv = freshId();
    await createEvent(h, priv, { state: 'live', visibility: 'private' });
    expect((await sse(`/events/${priv}/stream`)).status).to.equal(401);
  });

  it('gets CORS headers for an allowed Origin only', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const ok = await sse(`/events/${id}/stream`, { Origin: 'https://fans.example' });
    expect(ok.headers['access-control-allow-origin']).to.equal('https://fans.example');
    const other = await sse(`/events/${id}/stream`, { Origin: 'https://evil.example' });
    expect(other.headers['access-control-allow-origin']).to.equal(undefined);
  });

  it('follows several events with GET /stream, resuming each from Last-Event-ID', async () => {
    const a = freshId();
    const b = freshId();
    await createEvent(h, a, { state: 'live' });
    await createEvent(h, b, { state: 'live' });
    const s = await sse(`/stream?subs=${a},${b}`);
    const join = await s.json<MultiPollAnswer>();
    expect(join.body.results.map((r) => r.event)).to.deep.equal([a, b]);
    const cursors = join.body.results.map((r) => (r as PollAnswer).cursor);
    expect(join.event.id).to.equal(`${a}@${cursors[0]},${b}@${cursors[1]}`);
    await postScore(h, b, { data: { x: 1 } });
    const next = await s.json<MultiPollAnswer>();
    expect((next.body.results[1] as PollAnswer).deltas.map((d) => d.seq)).to.deep.equal([1]);
    s.close();
    await postScore(h, a, { data: { y: 1 } });
    const back = await sse(`/stream?subs=${a},${b}`, { 'Last-Event-ID': next.event.id! });
    const resumed = await back.json<MultiPollAnswer>();
    expect((resumed.body.results[0] as PollAnswer).deltas.map((d) => d.seq)).to.deep.equal([1]);
    expect((resumed.body.results[1] as PollAnswer).deltas).to.deep.equal([]);
  });

  it('ends when the event ends, and a reconnect after the end is 204 (EventSource stops)', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const s = await sse(`/events/${id}/stream`);
    await s.json();
    const ended = await h.http().post(`/events/${id}/end`).set('Authorization', `Bearer ${h.adminToken}`);
    expect(ended.status).to.equal(200);
    const last = await s.json<PollAnswer>();
    expect(last.body.ended).to.equal(true);
    const end = await s.json<{ reason: string }>();
    expect(end.event.event).to.equal('end');
    expect(end.body.reason).to.equal('ended');
    const again = await sse(`/events/${id}/stream`, { 'Last-Event-ID': last.event.id! });
    expect(again.status).to.equal(204);
  });

  it('counts streams in the connections gauge by transport', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const s = await sse(`/events/${id}/stream`);
    await s.json();
    const text = await scrape(h.url, new http.Agent());
    expect(sample(text, 'holdline_connections', { transport: 'sse' })).to.equal(1);
    expect(sample(text, 'holdline_held_polls')).to.equal(0);
  });
});

describe('SSE limits', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('counts streams against MAX_HELD_PER_ADDRESS', async () => {
    h = await startHarness({ MAX_HELD_PER_ADDRESS: '2' });
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const a = await openSse(`${h.url}/events/${id}/stream`);
    const b = await openSse(`${h.url}/events/${id}/stream`);
    const c = await openSse(`${h.url}/events/${id}/stream`);
    expect(c.status).to.equal(429);
    expect(c.headers['retry-after']).to.equal('5');
    a.close();
    b.close();
    await waitFor(() => h.hub.streams('sse') === 0, 'streams to close');
  });

  it('cuts a client that does not keep up, with an end event carrying its resume point', async () => {
    h = await startHarness({ STREAM_BUFFER_BYTES: '1024', MAX_BODY_BYTES: '1048576', RING_SIZE: '64', MAX_BATCH: '1' });
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const s = await openSse(`${h.url}/events/${id}/stream`);
    await s.json();
    s.pause();
    const blob = 'x'.repeat(512 * 1024);
    // Enough to fill the socket's kernel buffers on both sides, then the server's.
    for (let n = 0; n < 40 && h.hub.streams('sse') > 0; n++) await postScore(h, id, { data: { n, blob } });
    await waitFor(() => h.hub.streams('sse') === 0, 'the slow stream to be cut');
    s.res.resume();
    let lastId: string | null = null;
    let end: { reason: string; resume: string } | null = null;
    for (;;) {
      const e = await s.next({ timeoutMs: 20_000 });
      if (e === null) break;
      if (e.event === 'end') end = JSON.parse(e.data);
      else if (e.id !== null && e.data !== '') lastId = e.id;
    }
    expect(end?.reason).to.equal('slow');
    expect(end?.resume).to.equal(lastId);
  });
});

describe('SSE on drain', () => {
  it('ends every stream with an end event carrying the retry advice, and the server closes', async () => {
    const h = await startHarness({ HOLD_TIMEOUT_MS: '60000' });
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const s = await openSse(`${h.url}/events/${id}/stream`);
    const join = await s.json<PollAnswer>();
    const closing = h.close();
    let end;
    do end = await s.json<{ reason: string; resume: string; advice: { retryMs: number } }>();
    while (end.event.event !== 'end');
    expect(end.body.reason).to.equal('drain');
    expect(end.body.resume).to.equal(join.body.cursor);
    expect(end.event.retry).to.equal(end.body.advice.retryMs);
    await s.ended;
    await closing;
  });
});
