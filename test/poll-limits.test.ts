import { expect } from 'chai';
import type { Principal } from '../lib/model/access.js';
import { FakeClock } from '../lib/util/clock.js';
import { isHubError } from '../lib/model/errors.js';
import { Hub, type PollOptions } from '../lib/hub.js';
import { MemoryStore } from '../lib/store/memory/store.js';

const ADMIN: Principal = { sub: 'admin', name: null, scopes: new Set(['publish', 'admin']), events: null, expiresAt: null };

/** Lets pending promise callbacks run (the memory store answers within microtasks). */
const settle = () => new Promise((r) => setImmediate(r));

describe('hub.poll limits on held polls', () => {
  let clock: FakeClock;
  let hub: Hub;
  let cursors: Record<string, string>;

  const opts = (viewer: string | null, address?: string, principal: Principal | null = null): PollOptions => ({
    viewer, holdMs: 20_000, filter: { kinds: null, types: null, key: '' }, principal, ...(address ? { address } : {}),
  });
  /** Starts a poll at the head of the event and records how it ends. */
  const start = (eventId: string, o: PollOptions) => {
    const out: { body?: Record<string, unknown>; error?: unknown; done: boolean } = { done: false };
    hub.poll(eventId, cursors[eventId]!, o).then(
      (b) => Object.assign(out, { body: JSON.parse(b!), done: true }),
      (e) => Object.assign(out, { error: e, done: true }),
    );
    return out;
  };

  beforeEach(async () => {
    clock = new FakeClock();
    const store = new MemoryStore({ ringSize: 64, chatHistory: 5, maxEvents: 10, idempotencyTtlMs: 60_000, idempotencyMax: 100 });
    hub = new Hub(store, clock, { holdTimeoutMs: 20_000, maxHoldMs: 60_000, maxBatch: 64, ringSize: 64, presenceTtlMs: 30_000, maxHeldPerAddress: 3 });
    cursors = {};
    for (const id of ['m1', 'm2']) {
      await hub.putEvent(id, { title: id }, ADMIN);
      cursors[id] = (await hub.getEvent(id, ADMIN)).cursor;
    }
  });
  afterEach(() => hub.close());

  describe('one held poll per viewer per event', () => {
    it('answers the older poll at once with its cursor and a retry advice when the same viewer polls again', async () => {
      const first = start('m1', opts('v1'));
      await settle();
      expect(hub.heldPolls).to.equal(1);
      const second = start('m1', opts('v1'));
      await settle();
      expect(first.done).to.equal(true);
      expect(first.body).to.include({ cursor: cursors['m1'], reset: false });
      expect(first.body!['deltas']).to.deep.equal([]);
      expect(first.body!['advice']).to.deep.equal({ timeoutMs: 20_000, retryMs: 1000 });
      expect(second.done).to.equal(false);
      expect(hub.heldPolls).to.equal(1);
      await hub.publishNotice('m1', { title: 'goal' }, ADMIN);
      await settle();
      expect((second.body!['deltas'] as unknown[]).length).to.equal(1);
    });

    it('keys on the token sub when there is one, whatever viewer parameter is sent', async () => {
      const p: Principal = { ...ADMIN, sub: 'fan1', scopes: new Set() };
      const first = start('m1', opts('a', undefined, p));
      await settle();
      start('m1', opts('b', undefined, p));
      await settle();
      expect(first.done).to.equal(true);
      expect(hub.heldPolls).to.equal(1);
    });

    it('does not let a claimed viewer id answer the polls of another address or of a token holder', async () => {
      const fromHome = start('m1', opts('v1', '10.0.0.1'));
      const signedIn = start('m1', opts(null, '10.0.0.1', { ...ADMIN, sub: 'alice', scopes: new Set() }));
      await settle();
      // Someone elsewhere claims to be v1, then to be alice.
      start('m1', opts('v1', '10.9.9.9'));
      start('m1', opts('alice', '10.0.0.1'));
      await settle();
      expect(fromHome.done).to.equal(false);
      expect(signedIn.done).to.equal(false);
      expect(hub.heldPolls).to.equal(4);
      // The same claimed id from the same address is a reconnect.
      start('m1', opts('v1', '10.0.0.1'));
      await settle();
      expect(fromHome.done).to.equal(true);
    });

    it('leaves other viewers and other events alone', async () => {
      const polls = [start('m1', opts('v1')), start('m1', opts('v2')), start('m2', opts('v1'))];
      await settle();
      expect(polls.map((p) => p.done)).to.deep.equal([false, false, false]);
      expect(hub.heldPolls).to.equal(3);
    });

    it('exempts anonymous polls without a viewer', async () => {
      const polls = [start('m1', opts(null)), start('m1', opts(null)), start('m1', opts(null))];
      await settle();
      expect(polls.every((p) => !p.done)).to.equal(true);
      expect(hub.heldPolls).to.equal(3);
    });

    it('answers a held multi-event poll when the viewer polls one of its events alone', async () => {
      const multi = { done: false, body: undefined as undefined | { results: Array<{ cursor: string }> } };
      hub.pollMany([{ eventId: 'm1', cursor: cursors['m1']! }, { eventId: 'm2', cursor: cursors['m2']! }], opts('v1')).then((b) => {
        Object.assign(multi, { done: true, body: JSON.parse(b!) });
      });
      await settle();
      start('m2', opts('v1'));
      await settle();
      expect(multi.done).to.equal(true);
      expect(multi.body!.results.map((r) => r.cursor)).to.deep.equal([cursors['m1'], cursors['m2']]);
    });

    it('keeps the later poll when two of one viewer are reading at the same time', async () => {
      // Both start before either parks: whichever parks second, the later arrival is the one held.
      const a = start('m1', opts('v1'));
      const b = start('m1', opts('v1'));
      await settle();
      expect(a.done).to.equal(true);
      expect(b.done).to.equal(false);
      expect(hub.heldPolls).to.equal(1);
    });

    it('answers at once an older poll whose read finishes after a later one parked', async () => {
      const store = hub.store as MemoryStore;
      const read = store.read.bind(store);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((r) => (release = r));
      let calls = 0;
      store.read = async (...args) => {
        if (calls++ === 0) await gate;
        return read(...args);
      };
      const older = start('m1', opts('v1'));
      const later = start('m1', opts('v1'));
      await settle();
      expect(later.done).to.equal(false);
      expect(older.done).to.equal(false);
      release();
      await settle();
      expect(older.done).to.equal(true);
      expect(older.body!['advice']).to.deep.equal({ timeoutMs: 20_000, retryMs: 1000 });
      expect(later.done).to.equal(false);
      expect(hub.heldPolls).to.equal(1);
    });
  });

  describe('held polls per client address', () => {
    it('refuses a poll beyond the cap with 429 rate_limited and a retry time', async () => {
      const held = [start('m1', opts(null, '10.0.0.1')), start('m1', opts(null, '10.0.0.1')), start('m2', opts(null, '10.0.0.1'))];
      // Parked first: which of polls racing each other gets the last slot is not promised.
      await settle();
      const refused = start('m1', opts(null, '10.0.0.1'));
      await settle();
      expect(held.every((p) => !p.done)).to.equal(true);
      expect(refused.done).to.equal(true);
      expect(isHubError(refused.error) && refused.error.code).to.equal('rate_limited');
      expect(isHubError(refused.error) && refused.error.retryAfterS).to.be.greaterThan(0);
      // Another address is not affected.
      const other = start('m1', opts(null, '10.0.0.2'));
      await settle();
      expect(other.done).to.equal(false);
    });

    it('counts only polls that are held: answered ones free their slot', async () => {
      const held = [start('m1', opts(null, '10.0.0.1')), start('m1', opts(null, '10.0.0.1')), start('m1', opts(null, '10.0.0.1'))];
      await settle();
      await hub.publishNotice('m1', { title: 'news' }, ADMIN);
      await settle();
      expect(held.every((p) => p.done)).to.equal(true);
      cursors['m1'] = (await hub.getEvent('m1', ADMIN)).cursor;
      const next = start('m1', opts(null, '10.0.0.1'));
      await settle();
      expect(next.done).to.equal(false);
    });

    it('does not refuse a poll that answers at once', async () => {
      for (let i = 0; i < 3; i++) start('m1', opts(null, '10.0.0.1'));
      await settle();
      const join = await hub.poll('m1', null, opts(null, '10.0.0.1'));
      expect(JSON.parse(join!)).to.have.property('snapshot');
    });

    it('lets a viewer at the cap re-poll: the poll it replaces frees its slot first', async () => {
      start('m1', opts('v1', '10.0.0.1'));
      start('m1', opts('v2', '10.0.0.1'));
      start('m1', opts('v3', '10.0.0.1'));
      await settle();
      const again = start('m1', opts('v3', '10.0.0.1'));
      await settle();
      expect(again.done).to.equal(false);
      expect(hub.heldPolls).to.equal(3);
    });

    it('frees slots when held polls time out', async () => {
      for (let i = 0; i < 3; i++) start('m1', opts(null, '10.0.0.1'));
      await settle();
      clock.advance(20_100);
      await settle();
      expect(hub.heldPolls).to.equal(0);
      const next = start('m1', opts(null, '10.0.0.1'));
      await settle();
      expect(next.done).to.equal(false);
    });
  });
});
