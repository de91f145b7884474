import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { PollAnswer, ReactionsDelta } from '../lib/protocol.js';
import { FakeClock } from '../lib/util/clock.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { Poller } from '../lib/poll/poller.js';
import { RedisStore, type RedisStoreOptions } from '../lib/store/redis/store.js';
import { dumpKeys, eventKeys, RedisProxy, skewedClock } from './support/faults.js';
import { freePort, OwnRedis } from './support/redis-server.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TEST_OPTIONS, testPrefix, waitFor } from './support/stores.js';

/**
 * Each finding of issue 14 as a fault on a real redis-server of our own: a reply later than the
 * command timeout, a connection cut after Redis took a command, a rollback of an event's keys,
 * keys that vanish, servers whose clocks disagree, and what the poller and store remember.
 */

const META = { title: 'Faults', sport: 'football', visibility: 'public' } as const;

/** The deltas of an event's log, parsed. */
async function logOf(store: RedisStore | MemoryStore, id: string): Promise<Array<Record<string, unknown>>> {
  const read = await store.read(id, 0, 10_000);
  return (read?.entries ?? []).map((e) => JSON.parse(e.json) as Record<string, unknown>);
}

describe('faults between holdline and Redis (issue 14)', function () {
  this.timeout(60_000);
  let redis: OwnRedis;
  let raw: Redis;
  let proxy: RedisProxy;
  let prefix: string;
  let server: TestServer | null = null;

  before(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    raw = new Redis(redis.url);
  });
  after(async () => {
    raw.disconnect();
    await redis.dispose();
  });
  beforeEach(async () => {
    prefix = testPrefix();
    proxy = new RedisProxy(redis.port);
    await proxy.start();
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    await proxy.close();
  });

  /** A server on Redis through the proxy, its admin header, and an event it created. */
  async function serve(id: string, options: { clock?: FakeClock } = {}): Promise<{ auth: string; cursor: string }> {
    server = await startTestServer({ REDIS_URL: proxy.url, REDIS_PREFIX: prefix }, options.clock ? { clock: options.clock } : {});
    const auth = `Bearer ${server.adminToken}`;
    const put = await fetch(`${server.url}/events/${id}`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ ...META, state: 'live' }) });
    expect(put.status).to.equal(201);
    return { auth, cursor: ((await put.json()) as { cursor: string }).cursor };
  }

  async function publish(id: string, auth: string, data: Record<string, unknown>, key?: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: auth, 'content-type': 'application/json' };
    if (key) headers['idempotency-key'] = key;
    return fetch(`${server!.url}/events/${id}/scores`, { method: 'POST', headers, body: JSON.stringify({ op: 'patch', data }) });
  }

  /** Lets the change of a publish come back over pub/sub, then polls at the head once (the poller learns it). */
  async function settled(cursor: string, id: string): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
    expect((await fetch(`${server!.url}/events/${id}/poll?cursor=${cursor}&timeout=0`)).status).to.equal(200);
  }

  async function storeReady(): Promise<void> {
    await waitFor(async () => (await fetch(`${server!.url}/readyz`)).status === 200, 15_000, 'the store to be back');
  }

  it('1: writes a publish once when its reply comes after the command timeout, however it is retried', async () => {
    const { auth } = await serve('late');
    // Redis runs the append at once; its reply (and every one after it) reaches us 2.6 s later.
    proxy.holdRepliesAfter('late-goal', 2600);
    const first = await publish('late', auth, { 'late-goal': 1 }, 'k-late');
    expect(first.status).to.equal(503);
    await proxy.released();
    await storeReady();
    const retry = await publish('late', auth, { 'late-goal': 1 }, 'k-late');
    expect(retry.status).to.equal(201);
    expect(retry.headers.get('idempotent-replayed')).to.equal('true');
    const again = await publish('late', auth, { 'late-goal': 1 }, 'k-late');
    expect(await again.json()).to.deep.equal(await retry.json());
    const goals = (await logOf(server!.service.store as unknown as RedisStore, 'late')).filter((d) => JSON.stringify(d).includes('late-goal'));
    expect(goals).to.have.length(1);
    // Another body under the same key is a conflict, never a second write.
    expect((await publish('late', auth, { 'late-goal': 2 }, 'k-late')).status).to.equal(409);
  });

  it('1: writes a publish once when the connection is cut right after Redis took it', async () => {
    const { auth } = await serve('cut');
    proxy.cutAfter('cut-goal');
    const first = await publish('cut', auth, { 'cut-goal': 1 }, 'k-cut');
    expect(first.status).to.equal(503);
    await storeReady();
    const retry = await publish('cut', auth, { 'cut-goal': 1 }, 'k-cut');
    expect(retry.status).to.equal(201);
    const body = (await retry.json()) as { seq: number; cursor: string };
    expect(body.seq).to.equal(1);
    const goals = (await logOf(server!.service.store as unknown as RedisStore, 'cut')).filter((d) => JSON.stringify(d).includes('cut-goal'));
    expect(goals).to.have.length(1);
  });

  it('2: a rollback of the log answers a reset with a fresh snapshot everywhere, never a silent skip or a stale fold', async () => {
    const { auth, cursor: c0 } = await serve('rb');
    let c3 = '';
    for (let i = 1; i <= 3; i++) c3 = ((await (await publish('rb', auth, { [`k${i}`]: i })).json()) as { cursor: string }).cursor;
    const dump = await dumpKeys(redis.port, eventKeys(prefix, 'rb'));
    let c5 = '';
    for (let i = 4; i <= 5; i++) c5 = ((await (await publish('rb', auth, { [`k${i}`]: i })).json()) as { cursor: string }).cursor;
    // The server has folded (and cached) the snapshot at 5; a poll is parked at 5.
    expect(((await (await fetch(`${server!.url}/events/rb`)).json()) as { snapshot: { score: object } }).snapshot.score).to.deep.equal({ k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
    const parked = fetch(`${server!.url}/events/rb/poll?cursor=${c5}&timeout=20`).then(async (r) => (await r.json()) as PollAnswer);
    await waitFor(() => server!.service.hub.heldPolls === 1, 5000, 'the poll to park');
    // The failover: Redis comes back without appends 4 and 5; three new ones re-use seqs 4-6.
    await dump.restore();
    for (const k of ['a', 'b', 'c']) expect((await publish('rb', auth, { [k]: 1 })).status).to.equal(201);
    const expected = { k1: 1, k2: 2, k3: 3, a: 1, b: 1, c: 1 };

    // Told at the first wake that finds the log went back; it reads on from the new log.
    const woken = await parked;
    expect(woken.reset, 'the parked poll is told').to.equal(true);
    expect(woken.missed).to.equal(null);
    expect(woken.snapshot?.score).to.not.have.any.keys('k4', 'k5');
    const rest = (await (await fetch(`${server!.url}/events/rb/poll?cursor=${woken.cursor}&timeout=0`)).json()) as PollAnswer;
    expect(rest.reset).to.equal(false);
    const seen = { ...woken.snapshot?.score };
    for (const d of rest.deltas) Object.assign(seen, (d as { data: object }).data);
    expect(seen).to.deep.equal(expected);
    // A poll arriving with the lost cursor, and the event read afresh, agree.
    const late = (await (await fetch(`${server!.url}/events/rb/poll?cursor=${c5}`)).json()) as PollAnswer;
    expect(late.reset).to.equal(true);
    expect(late.snapshot?.score).to.deep.equal(expected);
    expect(((await (await fetch(`${server!.url}/events/rb`)).json()) as { snapshot: { score: object } }).snapshot.score).to.deep.equal(expected);
    // The stored snapshot in Redis is not the lost branch's fold either.
    await new Promise((r) => setTimeout(r, 100));
    const stored = JSON.parse((await raw.hget(eventKeys(prefix, 'rb')[0]!, 'snap'))!) as { score: object; seq: number };
    expect(JSON.stringify(stored.score)).to.not.include('k4');
    // A cursor the rollback kept (3) still reads on without a reset: 4, 5, 6 of the new log.
    const on = (await (await fetch(`${server!.url}/events/rb/poll?cursor=${c3}`)).json()) as PollAnswer;
    expect(on.reset).to.equal(false);
    expect(on.deltas.map((d) => Object.keys((d as { data: object }).data)[0])).to.deep.equal(['a', 'b', 'c']);
    // A cursor ahead of the head after the rollback: a reset too, not a 400.
    await dump.restore();
    expect((await publish('rb', auth, { d: 1 })).status).to.equal(201);
    const ahead = (await (await fetch(`${server!.url}/events/rb/poll?cursor=${on.cursor}`)).json()) as PollAnswer;
    expect(ahead.reset).to.equal(true);
    expect(ahead.missed).to.equal(null);
    expect(ahead.snapshot?.score).to.deep.equal({ k1: 1, k2: 2, k3: 3, d: 1 });
    expect(c0).to.be.a('string');
  });

  it('3: counts a reaction window once when its append timed out but landed', async () => {
    const clock = new FakeClock(Date.now());
    await serve('rx', { clock });
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server!.url}/events/rx/reactions?viewer=v${i}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"emoji":"🔥"}' });
      expect(res.status).to.equal(202);
    }
    proxy.holdRepliesAfter('"kind":"reactions"', 2600);
    const windows = server!.service.hub.fans.reactions;
    await windows.flush();
    expect(windows.pendingCount, 'the timed-out window waits for a retry').to.equal(5);
    await proxy.released();
    await storeReady();
    await windows.flush();
    await windows.flush();
    expect(windows.pendingCount).to.equal(0);
    const deltas = (await logOf(server!.service.store as unknown as RedisStore, 'rx')).filter((d) => d['kind'] === 'reactions') as unknown as ReactionsDelta[];
    const counted = deltas.reduce((n, d) => n + Object.values(d.counts).reduce((a, b) => a + b, 0), 0);
    expect(counted).to.equal(5);
    const detail = (await (await fetch(`${server!.url}/events/rx`)).json()) as { snapshot: { reactions: { totals: Record<string, number> } } };
    expect(detail.snapshot.reactions.totals).to.deep.equal({ '🔥': 5 });
  });

  it('4: notices keys that vanished without a change: a held poll with a viewer is answered 404', async () => {
    const { auth } = await serve('gone');
    const { cursor } = (await (await publish('gone', auth, { x: 1 })).json()) as { cursor: string };
    await settled(cursor, 'gone');
    const held = fetch(`${server!.url}/events/gone/poll?cursor=${cursor}&viewer=v1&timeout=20`);
    await waitFor(() => server!.service.hub.heldPolls === 1, 5000, 'the poll to park');
    // An operator's mistake, an eviction or FLUSHDB: no delete announced.
    await raw.del(...eventKeys(prefix, 'gone'));
    const answer = await held;
    expect(answer.status).to.equal(404);
  });

  it('4: trusts a remembered head for a bounded time only: a poll at it after that reads, and gets 404', async () => {
    const clock = new FakeClock(Date.now());
    const { auth } = await serve('gone2', { clock });
    const { cursor } = (await (await publish('gone2', auth, { x: 1 })).json()) as { cursor: string };
    // A quiet poll at the head once the publish's own change has come back: the poller learns the record.
    await settled(cursor, 'gone2');
    await raw.del(...eventKeys(prefix, 'gone2'));
    clock.advance(60_000);
    const late = fetch(`${server!.url}/events/gone2/poll?cursor=${cursor}&timeout=5`);
    // Were it parked from memory, only the hold's end would answer it (with 200, no news).
    await new Promise((r) => setTimeout(r, 200));
    clock.advance(6000);
    expect((await late).status).to.equal(404);
  });

  it('5: servers with skewed clocks neither prune each other\'s viewers nor split a rate-limit window', async () => {
    const options = { ...TEST_OPTIONS, url: redis.url, keyPrefix: prefix };
    const behind = new RedisStore({ ...options, clock: skewedClock(0) } as RedisStoreOptions);
    const ahead = new RedisStore({ ...options, clock: skewedClock(60_000) } as RedisStoreOptions);
    try {
      await Promise.all([behind.ping(), ahead.ping()]);
      await behind.createEvent('sk', META, 'live', Date.now());
      await behind.touchPresence('sk', 'v1', Date.now() + 35_000);
      expect(await behind.countPresence('sk', Date.now())).to.equal(1);
      // The server a minute ahead counts (and prunes) with its own clock.
      expect(await ahead.countPresence('sk', Date.now() + 60_000)).to.equal(1);
      expect(await behind.countPresence('sk', Date.now())).to.equal(1);
      await ahead.touchPresence('sk', 'v2', Date.now() + 60_000 + 35_000);
      expect(await ahead.countPresence('sk', Date.now() + 60_000)).to.equal(2);
      expect(await behind.countPresence('sk', Date.now())).to.equal(2);

      let allowed = 0;
      for (let i = 0; i < 8; i++) {
        const [store, offset] = i % 2 === 0 ? [behind, 0] : [ahead, 60_000];
        if ((await store.rateHit('sk|viewer:v1', 4, 600_000, Date.now() + offset)).allowed) allowed += 1;
      }
      expect(allowed, 'one window shared by both servers').to.equal(4);
    } finally {
      await behind.purge();
      await Promise.all([behind.close(), ahead.close()]);
    }
  });

  it('6: re-announces after a resubscribe only events that exist, not every id ever polled', async () => {
    const store = new RedisStore({ ...TEST_OPTIONS, url: proxy.url, keyPrefix: prefix, commandTimeoutMs: 1000 });
    try {
      await store.ping();
      await store.createEvent('real', META, 'live', Date.now());
      await store.read('real', 0, 10);
      for (let i = 0; i < 50; i++) expect(await store.read(`ghost-${i}`, 0, 10)).to.equal(null);
      const woken = new Set<string>();
      store.onChange((id) => woken.add(id));
      // The create's own change comes back first; what counts is what the resubscribe announces.
      await new Promise((r) => setTimeout(r, 300));
      woken.clear();
      proxy.dropAll();
      await waitFor(() => woken.size > 0, 15_000, 'the wake after resubscribing');
      await new Promise((r) => setTimeout(r, 200));
      expect([...woken].filter((id) => id.startsWith('ghost-'))).to.deep.equal([]);
      expect(woken.has('real')).to.equal(true);
    } finally {
      await store.close();
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length > 0) await raw.del(...keys);
    }
  });
});

describe('the poller keeps bounded memory of changes (issue 14, finding 6)', () => {
  it('drops the change counters of events nobody waits on', () => {
    const clock = new FakeClock();
    const store = new MemoryStore(TEST_OPTIONS);
    const poller = new Poller(store, clock, { holdTimeoutMs: 25_000, maxBatch: 8, presenceTtlMs: 35_000 });
    try {
      for (let i = 0; i < 50_000; i++) poller.notify(`any-id-${i}`);
      expect(poller.trackedChanges).to.be.below(10_000);
    } finally {
      poller.close();
    }
  });
});
