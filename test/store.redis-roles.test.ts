import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { EventMeta } from '../lib/protocol.js';
import { RedisStore } from '../lib/store/redis/store.js';
import { freePort, OwnRedis } from './support/redis-server.js';
import { TEST_OPTIONS, testPrefix, waitFor } from './support/stores.js';

const META: EventMeta = { title: 'Final', sport: 'football', visibility: 'public' };
const T0 = 1_700_000_000_000;

/** One command as MONITOR saw it: who sent it (the connection's name) and its words. */
interface Seen {
  name: string;
  args: string[];
}

// Issue 16: on one connection Redis answers commands in order, so an append sent behind a
// burst of re-polls' presence and reads waits for all of them. The store keeps the publishers'
// commands on a connection of their own. Watched from outside, on a Redis of our own.
describe('RedisStore connections by role', function () {
  this.timeout(20_000);
  let redis: OwnRedis;
  let watcher: Redis;
  let monitor: Redis;
  let admin: Redis;
  let store: RedisStore;
  const seen: Array<{ source: string; args: string[] }> = [];

  before(async function () {
    redis = new OwnRedis(await freePort());
    await redis.start();
    admin = new Redis(redis.url);
    // monitor() opens a connection of its own beside the one it is called on: both are closed after.
    watcher = new Redis(redis.url);
    monitor = await watcher.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => void seen.push({ source, args }));
    store = new RedisStore({ ...TEST_OPTIONS, url: redis.url, keyPrefix: testPrefix(), presenceFlushMs: 20, commandTimeoutMs: 5000 });
    await store.ping();
  });
  after(async function () {
    await store.close();
    monitor.disconnect();
    watcher.disconnect();
    admin.disconnect();
    await redis.dispose();
  });

  /** The commands seen so far, each with the name of the connection that sent it. */
  async function named(): Promise<Seen[]> {
    const list = (await admin.client('LIST')) as string;
    const names = new Map<string, string>();
    for (const line of list.split('\n')) {
      const addr = /\baddr=(\S+)/.exec(line)?.[1];
      if (addr) names.set(addr, /\bname=(\S*)/.exec(line)?.[1] ?? '');
    }
    return seen.map((x) => ({ name: names.get(x.source) ?? `?${x.source}`, args: x.args }));
  }

  it('sends appends on a connection that carries no presence, count or read', async () => {
    await store.createEvent('m1', META, 'live', T0);
    for (let i = 0; i < 20; i++) await store.touchPresence('m1', `v${i}`, T0 + 60_000);
    const counting = store.countPresence('m1', T0);
    const reading = store.read('m1', 0, 10);
    const appended = await store.append('m1', { kind: 'score', op: 'patch', data: { marker: 4242 } }, { now: T0 });
    await Promise.all([counting, reading]);
    await store.touchPresenceMany('m1', ['v1', 'v2'], T0 + 60_000);
    await waitFor(async () => (await named()).some((x) => x.args.some((a) => a.includes('4242'))));
    const commands = await named();

    const append = commands.filter((x) => x.args.some((a) => a.includes('"marker":4242')));
    expect(append, 'the append was seen').to.have.length.greaterThan(0);
    const publisher = append[0]!.name;
    const pollTraffic = commands.filter((x) => x.args.some((a) => a.includes(':presence') || a.startsWith('xrange') || a.toLowerCase() === 'xrange'));
    expect(pollTraffic, 'presence touches, counts and reads were seen').to.have.length.greaterThan(0);
    expect(pollTraffic.filter((x) => x.name === publisher), `poll traffic on the append's connection (${publisher})`).to.deep.equal([]);
    expect(appended.entry.seq).to.equal(1);
  });

  it('answers an append while the poll connection is stuck behind a slow command', async () => {
    await store.createEvent('m2', META, 'live', T0);
    const names = (await admin.client('LIST')) as string;
    expect(names, 'the poll connection is named').to.match(/\bname=holdline-poll\b/);
    // A command that holds the poll connection for 1 s, as a deep queue of poll traffic would:
    // whatever is sent behind it on that connection is answered after it.
    const order: string[] = [];
    const poll = (store as unknown as { link: { client: Redis } }).link.client;
    const blocked = poll.blpop('hl-roles-never', 1).then(() => void order.push('poll connection free'));
    const appended = store.append('m2', { kind: 'score', op: 'patch', data: { home: 1 } }, { now: T0 }).then((a) => {
      order.push('append answered');
      return a;
    });
    await Promise.all([blocked, appended]);
    expect(order).to.deep.equal(['append answered', 'poll connection free']);
    expect((await appended).entry.seq).to.equal(1);
  });
});
