import { expect } from 'chai';
import { startService, type Service } from '../bin/holdline.js';
import { FakeClock } from '../lib/util/clock.js';
import { loadConfig } from '../lib/config.js';
import { ALL } from '../lib/poll/filter.js';
import { Hub } from '../lib/hub.js';
import type { HubObserver, PollOutcome } from '../lib/observer.js';
import type { EventStats } from '../lib/engagement.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { TEST_SECRET } from './support/server.js';

const MINUTE = 60_000;

describe('GET /events/:eventId/stats', () => {
  // A fake clock on a minute boundary, so the script knows which minute each thing lands in.
  const start = 28_333_333 * MINUTE;
  let clock: FakeClock;
  let service: Service;
  let admin: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const stats = async (id: string): Promise<EventStats> => {
    const res = await fetch(`${service.url}/events/${id}/stats`);
    expect(res.status).to.equal(200);
    return (await res.json()) as EventStats;
  };

  beforeEach(async () => {
    clock = new FakeClock(start);
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent' });
    service = await startService(config, { clock, processMetrics: false });
    admin = await service.auth.mint({ sub: 'admin', scope: 'publish admin' });
  });
  afterEach(() => service.close());

  it('reports peak and current viewers, reactions and chat per minute and the top emoji after a scripted session', async () => {
    expect((await call('PUT', '/events/m1', { title: 'Final', sport: 'football', state: 'live' })).status).to.equal(201);
    // Minute 0: three viewers join; the crowd reacts and chats.
    for (const v of ['a', 'b', 'c']) await fetch(`${service.url}/events/m1/poll?viewer=${v}`);
    service.hub.stats.reactions('m1', { '⚽': 5, '🔥': 2 });
    service.hub.stats.chat('m1');
    service.hub.stats.chat('m1');
    // Minute 2: the three come back, a goal, more reactions; then one viewer leaves.
    clock.advance(2 * MINUTE);
    for (const v of ['a', 'b', 'c']) await fetch(`${service.url}/events/m1/poll?viewer=${v}`);
    service.hub.stats.reactions('m1', { '🔥': 4, '😢': 1 });
    service.hub.stats.chat('m1');
    await fetch(`${service.url}/events/m1/leave?viewer=c`, { method: 'POST' });
    await fetch(`${service.url}/events/m1/poll?viewer=a`);

    const s = await stats('m1');
    expect(s.event).to.equal('m1');
    expect(s.minutes).to.have.length(60);
    const last = Math.floor(clock.now() / MINUTE);
    expect(s.window).to.deep.equal({ from: (last - 59) * MINUTE, to: (last + 1) * MINUTE });
    const byMinute = new Map(s.minutes.map((m) => [m.at, m]));
    expect(byMinute.get(start)).to.deep.equal({ at: start, viewers: 3, reactions: 7, chat: 2 });
    expect(byMinute.get(start + MINUTE)).to.deep.equal({ at: start + MINUTE, viewers: 0, reactions: 0, chat: 0 });
    expect(byMinute.get(start + 2 * MINUTE)).to.deep.equal({ at: start + 2 * MINUTE, viewers: 3, reactions: 5, chat: 1 });
    expect(s.viewers).to.deep.equal({ current: 2, peak: 3, peakAt: start });
    expect(s.totals).to.deep.equal({ reactions: 12, chat: 3 });
    expect(s.topEmoji).to.deep.equal([
      { emoji: '🔥', count: 6 },
      { emoji: '⚽', count: 5 },
      { emoji: '😢', count: 1 },
    ]);
  });

  it('counts chat messages and reaction windows posted over HTTP once they are in the log', async () => {
    await call('PUT', '/events/m1', { title: 'Final', sport: 'football', state: 'live' });
    const fan = await service.auth.mint({ sub: 'fan', name: 'Fan' });
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${service.url}/events/m1/${path}?viewer=v1`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.status);
    expect(await post('chat', { text: 'what a goal' }, fan)).to.equal(201);
    expect(await post('chat', { text: 'unreal' }, fan)).to.equal(201);
    for (const emoji of ['🔥', '🔥', '⚽']) expect(await post('reactions', { emoji })).to.equal(202);
    // The reactions are counted when their window is appended.
    clock.advance(1000);
    await service.hub.fans.reactions.settled();
    const s = await stats('m1');
    expect(s.totals).to.deep.equal({ reactions: 3, chat: 2 });
    expect(s.topEmoji).to.deep.equal([
      { emoji: '🔥', count: 2 },
      { emoji: '⚽', count: 1 },
    ]);
  });

  it('forgets minutes older than an hour', async () => {
    await call('PUT', '/events/m1', { title: 'Final', sport: 'football', state: 'live' });
    service.hub.stats.chat('m1', 4);
    clock.advance(61 * MINUTE);
    service.hub.stats.chat('m1');
    const s = await stats('m1');
    expect(s.totals.chat).to.equal(1);
  });

  it('writes pending counters to the store on its flush timer', async () => {
    await call('PUT', '/events/m1', { title: 'Final', sport: 'football', state: 'live' });
    service.hub.stats.reactions('m1', { '👏': 3 });
    clock.advance(5000);
    await new Promise((r) => setImmediate(r));
    const minutes = await service.store.readStats('m1', 0);
    expect(minutes.map((m) => m.reactions)).to.deep.equal([3]);
  });

  it('answers 404 for an unknown event and 401 for a private one read anonymously', async () => {
    expect((await fetch(`${service.url}/events/nope/stats`)).status).to.equal(404);
    await call('PUT', '/events/secret', { title: 'x', sport: 'y', visibility: 'private' });
    expect((await fetch(`${service.url}/events/secret/stats`)).status).to.equal(401);
  });
});

describe('Hub observer', () => {
  it('counts a group answered with the same bytes in one call, with the number of polls', async () => {
    const clock = new FakeClock();
    const calls: Array<[PollOutcome, number]> = [];
    const delivered: Array<[number, number]> = [];
    const observer: HubObserver = {
      answered: (outcome, polls) => calls.push([outcome, polls]),
      delivered: (entries, polls) => delivered.push([entries.length, polls]),
      viewers: () => undefined,
      abandoned: () => undefined,
    };
    const store = new MemoryStore({ ringSize: 16, chatHistory: 5, maxEvents: 10, idempotencyTtlMs: 60_000, idempotencyMax: 100 });
    const hub = new Hub(store, clock, { holdTimeoutMs: 25_000, maxHoldMs: 60_000, maxBatch: 16, ringSize: 16, presenceTtlMs: 35_000, observer });
    const admin = { sub: 'admin', scopes: new Set(['publish', 'admin']), events: null, expiresAt: Infinity } as never;
    await hub.putEvent('m1', { title: 't', sport: 's' }, admin);
    const join = JSON.parse((await hub.poll('m1', null, { viewer: null, holdMs: 0, filter: ALL, principal: null }))!) as { cursor: string };
    const held = [1, 2, 3, 4].map(() => hub.poll('m1', join.cursor, { viewer: null, holdMs: 10_000, filter: ALL, principal: null }));
    await new Promise((r) => setImmediate(r));
    expect(hub.heldPolls).to.equal(4);
    await hub.publishNotice('m1', { title: 'goal' }, admin);
    await Promise.all(held);
    expect(calls).to.deep.equal([
      ['snapshot', 1],
      ['delta', 4],
    ]);
    expect(delivered).to.deep.equal([[1, 4]]);
    await hub.close();
    await store.close();
  });

  it('reports the age of a held poll whose client went away, and nothing for one answered or dropped before it was held', async () => {
    const clock = new FakeClock();
    const ages: number[] = [];
    const observer: HubObserver = { answered: () => undefined, delivered: () => undefined, viewers: () => undefined, abandoned: (ms) => ages.push(ms) };
    const store = new MemoryStore({ ringSize: 16, chatHistory: 5, maxEvents: 10, idempotencyTtlMs: 60_000, idempotencyMax: 100 });
    const hub = new Hub(store, clock, { holdTimeoutMs: 25_000, maxHoldMs: 60_000, maxBatch: 16, ringSize: 16, presenceTtlMs: 35_000, observer });
    const admin = { sub: 'admin', scopes: new Set(['publish', 'admin']), events: null, expiresAt: Infinity } as never;
    await hub.putEvent('m1', { title: 't', sport: 's' }, admin);
    const join = JSON.parse((await hub.poll('m1', null, { viewer: null, holdMs: 0, filter: ALL, principal: null }))!) as { cursor: string };
    const cut = new AbortController();
    const held = hub.poll('m1', join.cursor, { viewer: null, holdMs: 25_000, filter: ALL, principal: null, signal: cut.signal });
    const answered = hub.poll('m1', join.cursor, { viewer: null, holdMs: 25_000, filter: ALL, principal: null });
    await new Promise((r) => setImmediate(r));
    expect(hub.heldPolls).to.equal(2);
    clock.advance(10_000);
    cut.abort();
    expect(await held).to.equal(null);
    await hub.publishNotice('m1', { title: 'goal' }, admin);
    await answered;
    expect(ages).to.deep.equal([10_000]);
    await hub.close();
    await store.close();
  });
});
