import { expect } from 'chai';
import { HubError } from '../lib/model/errors.js';
import { METRICS_AUTH, startTestServer, type TestServer } from './support/server.js';
import { sample, until } from './support/metrics.js';

describe('GET /metrics', () => {
  let t: TestServer;
  const metrics = async (): Promise<string> => (await fetch(`${t.url}/metrics`, { headers: METRICS_AUTH })).text();
  const answers = async (outcome: string): Promise<number> => sample(await metrics(), 'holdline_poll_answers_total', { outcome }) ?? NaN;
  const publish = (event: string, data: object) =>
    fetch(`${t.url}/events/${event}/scores`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data }),
    });
  const create = async (event: string) => {
    const res = await fetch(`${t.url}/events/${event}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: event, sport: 'cricket', state: 'live' }),
    });
    expect(res.status).to.equal(201);
  };
  const join = async (event: string, viewer?: string): Promise<string> => {
    const q = viewer ? `?viewer=${viewer}` : '';
    const body = (await (await fetch(`${t.url}/events/${event}/poll${q}`)).json()) as { cursor: string };
    return body.cursor;
  };

  beforeEach(async () => {
    t = await startTestServer({ METRICS_TOP_EVENTS: '1' });
  });
  afterEach(() => t.close());

  it('is Prometheus text with the process metrics and every poll outcome at zero', async () => {
    const res = await fetch(`${t.url}/metrics`, { headers: METRICS_AUTH });
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'holdline_process_cpu_user_seconds_total')).to.be.a('number');
    for (const outcome of ['delta', 'reset', 'ended', 'snapshot', 'error', 'timeout', 'drain', 'aborted']) {
      expect(sample(text, 'holdline_poll_answers_total', { outcome }), outcome).to.equal(0);
    }
    expect(sample(text, 'holdline_held_polls')).to.equal(0);
    expect(sample(text, 'holdline_draining')).to.equal(0);
  });

  it('counts a held poll while it waits and a delta answer when it is woken', async () => {
    await create('m1');
    const cursor = await join('m1', 'v1');
    const held = fetch(`${t.url}/events/m1/poll?cursor=${cursor}&viewer=v1&timeout=30`).then((r) => r.json());
    await until(async () => sample(await metrics(), 'holdline_held_polls') === 1, 'the poll to be held');
    expect((await publish('m1', { runs: 4 })).status).to.equal(201);
    const answer = (await held) as { deltas: unknown[] };
    expect(answer.deltas).to.have.length(1);
    const text = await metrics();
    expect(sample(text, 'holdline_held_polls')).to.equal(0);
    expect(sample(text, 'holdline_poll_answers_total', { outcome: 'delta' })).to.equal(1);
    expect(sample(text, 'holdline_poll_answers_total', { outcome: 'snapshot' })).to.equal(1);
    expect(sample(text, 'holdline_deltas_appended_total', { kind: 'score' })).to.equal(1);
    expect(sample(text, 'holdline_deliveries_total')).to.equal(1);
    expect(sample(text, 'holdline_publish_to_answer_seconds_count', { path: 'wake' })).to.equal(1);
    expect(sample(text, 'holdline_publish_to_answer_seconds_bucket', { path: 'wake', le: '+Inf' })).to.equal(1);
    expect(sample(text, 'holdline_store_operation_seconds_count', { op: 'append' })).to.equal(1);
    expect(sample(text, 'holdline_store_errors_total', { op: 'append' })).to.equal(undefined);
  });

  it('counts once per group when one delta answers many held polls with the same bytes', async () => {
    await create('m1');
    const cursor = await join('m1');
    const polls = [1, 2, 3].map(() => fetch(`${t.url}/events/m1/poll?cursor=${cursor}&timeout=30`).then((r) => r.json()));
    await until(async () => sample(await metrics(), 'holdline_held_polls') === 3, 'three held polls');
    await publish('m1', { runs: 1 });
    await publish('m1', { runs: 2 });
    await Promise.all(polls);
    const text = await metrics();
    const delivered = sample(text, 'holdline_deliveries_total')!;
    // Each poll got one or both deltas (the second may land before the wake reads), counted per delta per poll.
    expect(delivered).to.be.within(3, 6);
    expect(sample(text, 'holdline_poll_answers_total', { outcome: 'delta' })).to.equal(3);
    expect(sample(text, 'holdline_publish_to_answer_seconds_count', { path: 'wake' })).to.equal(delivered);
  });

  it('counts timeouts, resets, errors and deltas found at once', async () => {
    await create('m1');
    const cursor = await join('m1');
    await fetch(`${t.url}/events/m1/poll?cursor=${cursor}&timeout=0`);
    expect(await answers('timeout')).to.equal(1);
    await fetch(`${t.url}/events/m1/poll?cursor=zzzz-0`);
    expect(await answers('reset')).to.equal(1);
    expect((await fetch(`${t.url}/events/nope/poll`)).status).to.equal(404);
    expect(await answers('error')).to.equal(1);
    await publish('m1', { runs: 6 });
    await fetch(`${t.url}/events/m1/poll?cursor=${cursor}`);
    const text = await metrics();
    expect(sample(text, 'holdline_poll_answers_total', { outcome: 'delta' })).to.equal(1);
    expect(sample(text, 'holdline_publish_to_answer_seconds_count', { path: 'immediate' })).to.equal(1);
  });

  it('counts an ended event answered at once', async () => {
    await create('m1');
    const cursor = await join('m1');
    await fetch(`${t.url}/events/m1/end`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } });
    const res = (await (await fetch(`${t.url}/events/m1/poll?cursor=${cursor}&kinds=score`)).json()) as { ended: boolean };
    expect(res.ended).to.equal(true);
    expect(await answers('ended')).to.equal(1);
    expect(sample(await metrics(), 'holdline_deltas_appended_total', { kind: 'status' })).to.equal(1);
  });

  it('counts a held poll whose client went away as aborted', async () => {
    await create('m1');
    const cursor = await join('m1');
    const abort = new AbortController();
    const held = fetch(`${t.url}/events/m1/poll?cursor=${cursor}&timeout=30`, { signal: abort.signal }).catch(() => 'aborted');
    await until(async () => sample(await metrics(), 'holdline_held_polls') === 1, 'the poll to be held');
    abort.abort();
    expect(await held).to.equal('aborted');
    await until(async () => (await answers('aborted')) === 1, 'the abort to be counted');
    const text = await metrics();
    expect(sample(text, 'holdline_held_polls')).to.equal(0);
    // Cut well under a second after it arrived: in the first bucket, counted once.
    expect(sample(text, 'holdline_held_poll_cut_age_seconds_count')).to.equal(1);
    expect(sample(text, 'holdline_held_poll_cut_age_seconds_bucket', { le: '1' })).to.equal(1);
  });

  it('shows events open, presence totals, and a per-event series only for the top METRICS_TOP_EVENTS', async () => {
    await create('big');
    await create('small');
    await create('over');
    for (const v of ['a', 'b', 'c']) await join('big', v);
    await join('small', 'a');
    await fetch(`${t.url}/events/over/end`, { method: 'POST', headers: { authorization: `Bearer ${t.adminToken}` } });
    const text = await metrics();
    expect(sample(text, 'holdline_events_open')).to.equal(2);
    expect(sample(text, 'holdline_viewers')).to.equal(4);
    expect(sample(text, 'holdline_event_viewers', { event: 'big' })).to.equal(3);
    expect(sample(text, 'holdline_event_viewers', { event: 'small' })).to.equal(undefined);
  });

  it('counts 429 rate_limited answers by route where the error is mapped', async () => {
    await create('m1');
    const fan = await t.token({ sub: 'fan' });
    const chat = () =>
      fetch(`${t.url}/events/m1/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fan}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'hello' }),
      });
    for (let i = 0; i < 5; i++) expect((await chat()).status).to.equal(201);
    const refused = await chat();
    expect(refused.status).to.equal(429);
    expect(refused.headers.get('retry-after')).to.match(/^\d+$/);
    // Any rate_limited refusal counts, wherever it is thrown.
    t.service.hub.publishScore = async () => {
      throw new HubError('rate_limited', 'slow down', { retryAfterS: 3 });
    };
    expect((await publish('m1', { runs: 1 })).status).to.equal(429);
    const text = await metrics();
    expect(sample(text, 'holdline_rate_limited_total', { route: '/events/:eventId/chat' })).to.equal(1);
    expect(sample(text, 'holdline_rate_limited_total', { route: '/events/:eventId/scores' })).to.equal(1);
    expect(sample(text, 'holdline_http_responses_total', { method: 'POST', route: '/events/:eventId/chat', status: '429' })).to.equal(1);
    expect(sample(text, 'holdline_deltas_appended_total', { kind: 'chat' })).to.equal(5);
  });
});

describe('GET /metrics: held polls refused by the per-address cap', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ MAX_HELD_PER_ADDRESS: '1' });
  });
  after(() => t.close());

  it('counts their 429s by route, on the poll fast path and through Koa alike', async () => {
    const put = await fetch(`${t.url}/events/capped`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Capped', state: 'live' }),
    });
    expect(put.status).to.equal(201);
    const { cursor } = (await put.json()) as { cursor: string };
    const held = new AbortController();
    const first = fetch(`${t.url}/events/capped/poll?cursor=${cursor}`, { signal: held.signal }).catch(() => null);
    await until(() => t.service.hub.heldPolls === 1, 'the first poll held');
    // The fast path answers the plain poll; an escaped parameter sends the same poll through Koa.
    for (const path of [`/events/capped/poll?cursor=${cursor}`, `/events/capped/poll?cursor=${cursor}&x=%41`, `/poll?subs=capped@${cursor}`]) {
      const refused = await fetch(`${t.url}${path}`);
      expect(refused.status, path).to.equal(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('rate_limited');
    }
    held.abort();
    await first;
    const text = await (await fetch(`${t.url}/metrics`, { headers: METRICS_AUTH })).text();
    expect(sample(text, 'holdline_rate_limited_total', { route: '/events/:eventId/poll' })).to.equal(2);
    expect(sample(text, 'holdline_rate_limited_total', { route: '/poll' })).to.equal(1);
  });
});
