import { expect } from 'chai';
import http from 'node:http';
import net from 'node:net';
import type { PollAnswer } from '../lib/protocol.js';
import { startChildServer, type ChildServer } from './support/child.js';
import { requestJson, type JsonAnswer } from './support/client.js';
import { orAfter } from './support/harness.js';
import { sample, scrape, until } from './support/metrics.js';
import { METRICS_AUTH } from './support/server.js';
import { signHs256 } from './support/raw.js';
import { startTestServer, TEST_SECRET, type TestServer } from './support/server.js';

describe('drain: the 2 s bound, metrics and logs of a real process', function () {
  // Starting a child through tsx on a busy machine is slow; only the drain itself is bounded.
  this.timeout(120_000);

  let server: ChildServer | null = null;
  const agents: http.Agent[] = [];
  const sockets: net.Socket[] = [];
  afterEach(() => {
    server?.kill();
    server = null;
    for (const agent of agents.splice(0)) agent.destroy();
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  it('answers 200 held polls within 2 s of SIGTERM, logs each step with counts, and exits 0', async () => {
    const HELD = 200;
    server = await startChildServer({ JWT_SECRET: TEST_SECRET, DRAIN_TIMEOUT_MS: '8000', HOLD_TIMEOUT_MS: '60000' });
    const { url } = server;
    const pollAgent = new http.Agent({ keepAlive: true, maxSockets: HELD + 10 });
    const opsAgent = new http.Agent({ keepAlive: false });
    agents.push(pollAgent, opsAgent);
    const admin = signHs256({ sub: 'admin', scope: 'publish admin', exp: Math.floor(Date.now() / 1000) + 600 }, TEST_SECRET);
    const put = await requestJson(`${url}/events/ops-drain`, { method: 'PUT', headers: { authorization: `Bearer ${admin}` }, body: { state: 'live' }, agent: opsAgent });
    expect(put.status).to.equal(201);
    const cursor = (put.body as { cursor: string }).cursor;

    const answeredAt: number[] = [];
    const polls: Array<Promise<JsonAnswer>> = [];
    for (let i = 0; i < HELD; i++) {
      const p = requestJson(`${url}/events/ops-drain/poll?cursor=${cursor}&viewer=v${i}`, { agent: pollAgent });
      polls.push(p.then((res) => (answeredAt.push(performance.now()), res)));
    }
    await until(async () => sample(await scrape(url, opsAgent), 'holdline_held_polls') === HELD, `${HELD} held polls`, 2400, 25);
    const before = await scrape(url, opsAgent);
    expect(sample(before, 'holdline_draining')).to.equal(0);
    expect(sample(before, 'holdline_viewers')).to.equal(HELD);

    const signalledAt = performance.now();
    expect(server.child.kill('SIGTERM')).to.equal(true);
    const answers = await Promise.all(polls);
    expect(Math.max(...answeredAt) - signalledAt, 'every held poll answered within 2 s of SIGTERM').to.be.below(2000);
    for (const res of answers) {
      expect(res.status).to.equal(200);
      expect((res.body as PollAnswer).cursor).to.equal(cursor);
      expect(res.headers['connection']).to.equal('close');
    }

    expect(await orAfter(server.exited, 30_000, 'still running after 30 s'), server.stderr()).to.equal(0);
    const logs = server.logs();
    const step = (msg: string) => logs.find((l) => l.msg === msg);
    expect(step('draining')).to.include({ signal: 'SIGTERM', drainTimeoutMs: 8000 });
    expect(step('drain started')).to.include({ heldPolls: HELD });
    expect(step('held polls answered')).to.include({ answered: HELD });
    expect(step('drained')).to.have.property('ms').that.is.a('number');
    const pollLines = logs.filter((l) => l.msg === 'request' && l['route'] === '/events/:eventId/poll' && l['status'] === 200);
    expect(pollLines.length).to.be.at.least(HELD);
    expect(server.stdout()).to.not.include(admin.split('.')[2]!);
    expect(logs.filter((l) => l.level === 'error' || l.level === 'fatal')).to.deep.equal([]);
  });

  it('exits 3 within DRAIN_TIMEOUT_MS when a request never finishes, and logs how many it cut', async () => {
    server = await startChildServer({ JWT_SECRET: TEST_SECRET, DRAIN_TIMEOUT_MS: '1500' });
    const port = Number(new URL(server.url).port);
    // A write whose body never arrives: in flight until the drain deadline cuts it.
    const socket = net.connect({ port, host: '127.0.0.1' });
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write('POST /events/x/scores HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"da');
    await new Promise((r) => setTimeout(r, 200));
    server.child.kill('SIGTERM');
    expect(await orAfter(server.exited, 30_000, 'still running after 30 s'), server.stderr()).to.equal(3);
    const logs = server.logs();
    expect(logs.find((l) => l.msg === 'in-flight requests cut at the drain deadline')).to.include({ cut: 1 });
    expect(logs.find((l) => l.msg === 'drained')).to.include({ cut: 1 });
  });

  it('closes at once, exit 0 and no cut, when connections are open but no request is in flight', async () => {
    // Far longer than the test may take: waiting for it would fail the test by its timeout.
    server = await startChildServer({ JWT_SECRET: TEST_SECRET, DRAIN_TIMEOUT_MS: '600000', HOLD_TIMEOUT_MS: '60000' });
    const { url } = server;
    const port = Number(new URL(url).port);
    const opsAgent = new http.Agent({ keepAlive: false });
    agents.push(opsAgent);
    const admin = signHs256({ sub: 'admin', scope: 'publish admin', exp: Math.floor(Date.now() / 1000) + 600 }, TEST_SECRET);
    const put = await fetch(`${url}/events/idle-conns`, { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: '{"state":"live"}' });
    const { cursor } = (await put.json()) as { cursor: string };
    // A held poll aborted by fetch: undici then opens a fresh connection that never sends a request.
    const abort = new AbortController();
    const held = fetch(`${url}/events/idle-conns/poll?cursor=${cursor}`, { signal: abort.signal }).catch(() => 'aborted');
    await until(async () => sample(await scrape(url, opsAgent), 'holdline_held_polls') === 1, 'the held poll', 2400, 25);
    abort.abort();
    expect(await held).to.equal('aborted');
    await until(async () => sample(await scrape(url, opsAgent), 'holdline_held_polls') === 0, 'the abort seen', 2400, 25);
    // A preconnect, or a load balancer's TCP health check: connected, nothing sent.
    const bare = net.connect({ port, host: '127.0.0.1' });
    sockets.push(bare);
    bare.on('error', () => undefined);
    await new Promise((r) => bare.once('connect', r));
    server.child.kill('SIGTERM');
    expect(await orAfter(server.exited, 60_000, 'still draining after 60 s: it waited for idle connections'), server.stderr()).to.equal(0);
    const logs = server.logs();
    expect(logs.some((l) => l.msg === 'in-flight requests cut at the drain deadline')).to.equal(false);
    expect(logs.find((l) => l.msg === 'drained')).to.include({ cut: 0 });
  });
});

describe('drain: in-process metrics and refusals', () => {
  let t: TestServer;
  beforeEach(async () => {
    t = await startTestServer();
  });
  afterEach(() => t.close());

  it('turns /readyz 503 first, refuses new polls with 503 draining, Retry-After and Connection: close, and shows draining', async () => {
    const put = await fetch(`${t.url}/events/m1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'live' }),
    });
    const { cursor } = (await put.json()) as { cursor: string };
    const held = [1, 2, 3].map(() => fetch(`${t.url}/events/m1/poll?cursor=${cursor}&timeout=30`).then((r) => r.json() as Promise<PollAnswer>));
    await until(() => t.service.hub.heldPolls === 3, 'three held polls');
    expect(await t.service.hub.drain()).to.equal(3);
    for (const a of await Promise.all(held)) {
      expect(a.cursor).to.equal(cursor);
      expect(a.advice?.retryMs).to.be.within(0, 999);
    }
    expect((await fetch(`${t.url}/readyz`)).status).to.equal(503);
    const refused = await fetch(`${t.url}/events/m1/poll?cursor=${cursor}`);
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(refused.headers.get('connection')).to.equal('close');
    expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal('draining');
    const text = await (await fetch(`${t.url}/metrics`, { headers: METRICS_AUTH })).text();
    expect(sample(text, 'holdline_draining')).to.equal(1);
    expect(sample(text, 'holdline_poll_answers_total', { outcome: 'drain' })).to.equal(3);
    expect(sample(text, 'holdline_held_polls')).to.equal(0);
    expect(sample(text, 'holdline_http_responses_total', { method: 'GET', route: '/events/:eventId/poll', status: '503' })).to.equal(1);
  });

  it('writes pending engagement stats to the store before closing it', async () => {
    await fetch(`${t.url}/events/m1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'live' }),
    });
    t.service.hub.stats.chat('m1', 2);
    let recorded = 0;
    const record = t.service.store.recordStats.bind(t.service.store);
    t.service.store.recordStats = async (id, minute, counters) => {
      recorded += counters.chat;
      return record(id, minute, counters);
    };
    await t.close();
    expect(recorded).to.equal(2);
  });
});
