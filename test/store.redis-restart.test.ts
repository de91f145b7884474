import { expect } from 'chai';
import type { DeltaDraft, EventMeta } from '../lib/protocol.js';
import { RedisStore } from '../lib/store/redis/store.js';
import { freePort, OwnRedis } from './support/redis-server.js';
import { expectHubError, TEST_OPTIONS, testPrefix, waitFor } from './support/stores.js';

const META: EventMeta = { title: 'Final', sport: 'football', visibility: 'public' };
const T0 = 1_700_000_000_000;
const patch = (data: Record<string, number>): DeltaDraft => ({ kind: 'score', op: 'patch', data });

/** Measures how long a promise takes to settle, whatever the outcome. */
async function elapsed(promise: Promise<unknown>): Promise<number> {
  const start = Date.now();
  await promise.catch(() => undefined);
  return Date.now() - start;
}

describe('RedisStore when Redis goes away and comes back', function () {
  this.timeout(30_000);
  let redis: OwnRedis;
  let store: RedisStore | null = null;

  beforeEach(async function () {
    redis = new OwnRedis(await freePort());
    await redis.start();
  });
  afterEach(async function () {
    await store?.close();
    store = null;
    await redis.dispose();
  });

  it('refuses promptly with 503 while down, then resumes on its own with every acknowledged delta', async function () {
    store = new RedisStore({ ...TEST_OPTIONS, url: redis.url, keyPrefix: testPrefix(), commandTimeoutMs: 1000 });
    await store.ping();
    await store.createEvent('m1', META, 'live', T0);
    for (let i = 1; i <= 5; i++) await store.append('m1', patch({ [`k${i}`]: i }), { now: T0 + i });
    const woken: string[] = [];
    store.onChange((id) => woken.push(id));

    await redis.stop('SIGKILL');
    const err = await expectHubError(store.append('m1', patch({ lost: 1 }), { now: T0 }), 'unavailable');
    expect(err.status).to.equal(503);
    expect(err.retryAfterS).to.be.a('number');
    expect(await elapsed(store.append('m1', patch({ lost: 1 }), { now: T0 }))).to.be.below(1500);
    await expectHubError(store.ping(), 'unavailable');
    await expectHubError(store.read('m1', 0, 10), 'unavailable');
    await expectHubError(store.snapshot('m1'), 'unavailable');
    await expectHubError(store.touchPresence('m1', 'v1', T0 + 5000), 'unavailable');
    await expectHubError(store.countPresence('m1', T0), 'unavailable');

    woken.length = 0;
    await redis.start();
    await waitFor(() => store!.ping().then(() => true, () => false), 10_000, 'the store to resume');
    // Wakes published while it was away are lost, so every listener is told to re-read.
    await waitFor(() => woken.includes('m1'), 5000, 'a wake after resubscribing');

    const read = await store.read('m1', 0, 100);
    expect(read!.entries.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect((await store.snapshot('m1'))!.snapshot.score).to.deep.equal({ k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
    const next = await store.append('m1', patch({ k6: 6 }), { now: T0 + 6 });
    expect(next.entry.seq).to.equal(6);
    woken.length = 0;
    await store.append('m1', patch({ k7: 7 }), { now: T0 + 7 });
    await waitFor(() => woken.includes('m1'), 2000, 'wakes through the new subscription');
  });

  it('refuses promptly when Redis was never there, and closes without hanging', async function () {
    const port = await freePort();
    const lonely = new RedisStore({ ...TEST_OPTIONS, url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 500 });
    try {
      expect(await elapsed(expectHubError(lonely.createEvent('m1', META, 'live', T0), 'unavailable'))).to.be.below(1500);
      await expectHubError(lonely.ping(), 'unavailable');
    } finally {
      await lonely.close();
      await lonely.close();
    }
  });
});
