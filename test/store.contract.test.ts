import { expect } from 'chai';
import type { DeltaDraft, EventMeta } from '../lib/protocol.js';
import type { Store } from '../lib/store/types.js';
import { expectHubError, makeHarness, TEST_OPTIONS, waitFor, type StoreHarness } from './support/stores.js';

// One contract, every store: the same sentences must hold for memory and Redis alike.

const T0 = 1_700_000_000_000;
const META: EventMeta = { title: 'Final', sport: 'football', visibility: 'public' };
const RING = TEST_OPTIONS.ringSize;
const patch = (data: Record<string, unknown>): DeltaDraft => ({ kind: 'score', op: 'patch', data }) as DeltaDraft;
const chat = (id: string, text: string): DeltaDraft => ({ kind: 'chat', id, user: { id: `u-${id}` }, text });

for (const kind of ['memory', 'redis'] as const) {
  describe(`Store contract: ${kind}`, function () {
    let h: StoreHarness;
    let store: Store;

    beforeEach(async function () {
      h = await makeHarness(kind);
      store = h.store;
    });
    afterEach(async function () {
      await h?.dispose();
    });

    const create = (id = 'm1', now = T0) => store.createEvent(id, META, 'live', now);
    const append = (draft: DeltaDraft, now = T0 + 1, id = 'm1') => store.append(id, draft, { now });

    describe('events', function () {
      it('creates an event with a fresh epoch and head 0, and returns null when it exists', async function () {
        const rec = await create();
        expect(rec).to.deep.include({ id: 'm1', meta: META, state: 'live', head: 0, lastVersion: null, createdAt: T0 });
        expect(rec!.epoch).to.match(/^[a-z0-9]{1,16}$/);
        expect(await create()).to.equal(null);
        expect(await store.getEvent('m1')).to.deep.equal(rec);
        expect(await store.getEvent('nope')).to.equal(null);
      });

      it('lists events in creation order, even with equal timestamps', async function () {
        for (const id of ['c', 'a', 'b']) await create(id);
        expect((await store.listEvents()).map((r) => r.id)).to.deep.equal(['c', 'a', 'b']);
      });

      it('deletes an event with its log, and answers false when there is none', async function () {
        await create();
        await append(patch({ a: 1 }));
        expect(await store.deleteEvent('m1')).to.equal(true);
        expect(await store.deleteEvent('m1')).to.equal(false);
        expect(await store.getEvent('m1')).to.equal(null);
        expect(await store.read('m1', 0, 10)).to.equal(null);
        expect(await store.snapshot('m1')).to.equal(null);
        expect(await store.listEvents()).to.deep.equal([]);
      });

      it('refuses to create more than maxEvents with 503 unavailable', async function () {
        for (let i = 0; i < TEST_OPTIONS.maxEvents; i++) await create(`e${i}`);
        const err = await expectHubError(create('one-too-many'), 'unavailable');
        expect(err.status).to.equal(503);
        expect(err.retryAfterS).to.be.a('number');
        await store.deleteEvent('e0');
        expect(await create('one-too-many')).to.not.equal(null);
      });

      it('gives a deleted and re-created event a new epoch and head 0', async function () {
        const first = await create();
        await append(patch({ a: 1 }));
        await store.deleteEvent('m1');
        const second = await create();
        expect(second!.epoch).to.not.equal(first!.epoch);
        expect(second!.head).to.equal(0);
        const read = await store.read('m1', 0, 10);
        expect(read!.entries).to.deep.equal([]);
        expect(read!.oldest).to.equal(1);
        expect((await store.snapshot('m1'))!.snapshot).to.deep.include({ seq: 0, score: {} });
        expect((await append(patch({ b: 1 }))).entry.seq).to.equal(1);
      });
    });

    describe('append', function () {
      it('assigns contiguous seqs from 1, stamps ts, and stores the delta as JSON', async function () {
        await create();
        const draft: DeltaDraft = { kind: 'score', op: 'set', type: 'goal', version: 1, data: { home: 1, away: 0 } };
        const first = await store.append('m1', draft, { now: T0 + 5, version: 1 });
        expect(first.epoch).to.equal((await store.getEvent('m1'))!.epoch);
        expect(first.entry).to.deep.include({ seq: 1, kind: 'score', type: 'goal' });
        expect(JSON.parse(first.entry.json)).to.deep.equal({ ...draft, seq: 1, ts: T0 + 5 });
        const second = await append({ kind: 'notice', data: { title: 'Half time' } }, T0 + 6);
        expect(second.entry).to.deep.include({ seq: 2, kind: 'notice', type: undefined });
        expect(JSON.parse(second.entry.json)).to.deep.equal({ kind: 'notice', data: { title: 'Half time' }, seq: 2, ts: T0 + 6 });
        expect(await store.getEvent('m1')).to.deep.include({ head: 2, lastVersion: 1 });
      });

      it('answers 404 for an event that does not exist', async function () {
        await expectHubError(append(patch({ a: 1 }), T0, 'ghost'), 'not_found');
      });

      it('refuses an ended event with event_ended unless requireOpen is false', async function () {
        await create();
        await append({ kind: 'status', data: { state: 'ended' } });
        const before = await store.getEvent('m1');
        await expectHubError(append(patch({ a: 1 })), 'event_ended');
        expect(await store.getEvent('m1')).to.deep.equal(before);
        const reopened = await store.append('m1', { kind: 'status', data: { state: 'live' } }, { now: T0, requireOpen: false });
        expect(reopened.entry.seq).to.equal(2);
      });

      it('refuses a score version not above the last with stale_version, appending nothing', async function () {
        await create();
        await store.append('m1', patch({ a: 1 }), { now: T0, version: 3 });
        await expectHubError(store.append('m1', patch({ a: 2 }), { now: T0, version: 3 }), 'stale_version');
        await expectHubError(store.append('m1', patch({ a: 2 }), { now: T0, version: 2 }), 'stale_version');
        expect(await store.getEvent('m1')).to.deep.include({ head: 1, lastVersion: 3 });
        await store.append('m1', patch({ a: 4 }), { now: T0, version: 4 });
        expect((await store.snapshot('m1'))!.snapshot.score).to.deep.equal({ a: 4 });
      });

      it('moves state and meta on the record with a status delta', async function () {
        await create();
        const meta: EventMeta = { ...META, title: 'Final (extra time)', venue: 'Wembley' };
        await append({ kind: 'status', data: { state: 'ended', meta } });
        expect(await store.getEvent('m1')).to.deep.include({ state: 'ended', meta });
        expect((await store.snapshot('m1'))!.snapshot).to.deep.include({ state: 'ended', meta });
      });
    });

    describe('read', function () {
      it('returns the entries after a seq, at most the limit, with the record and oldest', async function () {
        await create();
        for (let i = 1; i <= 5; i++) await append(patch({ i }));
        const read = await store.read('m1', 2, 2);
        expect(read!.record.head).to.equal(5);
        expect(read!.oldest).to.equal(1);
        expect(read!.entries.map((e) => e.seq)).to.deep.equal([3, 4]);
        expect(JSON.parse(read!.entries[0]!.json)).to.deep.include({ seq: 3, data: { i: 3 } });
        expect((await store.read('m1', 5, 10))!.entries).to.deep.equal([]);
        const empty = await store.read('m1', 0, 10);
        expect(empty!.entries).to.have.length(5);
      });

      it('reports oldest as head + 1 for an empty log', async function () {
        await create();
        expect(await store.read('m1', 0, 10)).to.deep.include({ oldest: 1, entries: [] });
      });

      it('trims the log to the ring and reports truthfully what it holds', async function () {
        await create();
        const total = RING + 5;
        for (let i = 1; i <= total; i++) await append(patch({ i }));
        const read = await store.read('m1', 0, 1000);
        const seqs = read!.entries.map((e) => e.seq);
        // Exactly the ring for memory; Redis may hold a little more, but oldest never lies.
        expect(read!.oldest).to.equal(seqs[0]);
        expect(seqs).to.deep.equal(Array.from({ length: total - read!.oldest + 1 }, (_, i) => read!.oldest + i));
        expect(seqs.length).to.be.within(RING, 2 * RING);
        if (kind === 'memory') expect(read!.oldest).to.equal(total - RING + 1);
        expect((await store.read('m1', read!.oldest + 1, 2))!.entries.map((e) => e.seq)).to.deep.equal([
          read!.oldest + 2,
          read!.oldest + 3,
        ]);
      });
    });

    describe('snapshot', function () {
      it('sets and patches the score with RFC 7396 semantics, keeping JSON exactly', async function () {
        await create();
        const data = { home: 1, away: 0, cards: [], stats: { shots: 3, corners: 1 }, big: 2 ** 60, tiny: 1e-7 };
        await append({ kind: 'score', op: 'set', data });
        await append(patch({ away: 1, stats: { corners: null, fouls: 2 }, cards: ['y'], extra: {} }));
        const { record, snapshot } = (await store.snapshot('m1'))!;
        expect(record.head).to.equal(2);
        expect(snapshot.seq).to.equal(2);
        expect(snapshot.score).to.deep.equal({
          home: 1,
          away: 1,
          cards: ['y'],
          stats: { shots: 3, fouls: 2 },
          big: 2 ** 60,
          tiny: 1e-7,
          extra: {},
        });
        await append({ kind: 'score', op: 'set', data: { empty: [] } });
        expect((await store.snapshot('m1'))!.snapshot.score).to.deep.equal({ empty: [] });
      });

      it('keeps the last chatHistory messages and drops deleted ones', async function () {
        await create();
        for (let i = 1; i <= 5; i++) await append(chat(`c${i}`, `hello ${i}`), T0 + i);
        await append({ kind: 'chat', op: 'delete', id: 'c4' });
        const { snapshot } = (await store.snapshot('m1'))!;
        expect(snapshot.chat.map((m) => m.id)).to.deep.equal(['c3', 'c5']);
        expect(snapshot.chat[0]).to.deep.equal({ id: 'c3', user: { id: 'u-c3' }, text: 'hello 3', ts: T0 + 3, seq: 3 });
      });

      it('sums reaction totals, whatever the emoticon spells', async function () {
        await create();
        const window = { from: T0, to: T0 + 1000 };
        await append({ kind: 'reactions', counts: { '👍': 3, ':)': 1, toString: 2 }, samples: [], window });
        await append({ kind: 'reactions', counts: { '👍': 2, __proto__: 1 } as Record<string, number>, samples: [], window });
        const totals = (await store.snapshot('m1'))!.snapshot.reactions.totals;
        expect(Object.keys(totals).sort()).to.deep.equal([':)', 'toString', '👍'].sort());
        expect(totals['👍']).to.equal(5);
        expect(totals.toString).to.equal(2);
      });

      it('matches the record it is read with, and survives the ring trimming the log', async function () {
        await create();
        for (let i = 1; i <= RING * 3; i++) await append(patch({ [`k${i}`]: i }));
        const { record, snapshot } = (await store.snapshot('m1'))!;
        expect(snapshot.seq).to.equal(record.head);
        expect(Object.keys(snapshot.score)).to.have.length(RING * 3);
        expect(await store.snapshot('ghost')).to.equal(null);
      });
    });

    describe('concurrency', function () {
      it('gives many concurrent appends unique, contiguous seqs', async function () {
        await create();
        const other = await h.peer();
        const n = 120;
        const results = await Promise.all(
          Array.from({ length: n }, (_, i) => (i % 2 ? other : store).append('m1', patch({ i }), { now: T0 + i })),
        );
        const seqs = results.map((r) => r.entry.seq).sort((a, b) => a - b);
        expect(seqs).to.deep.equal(Array.from({ length: n }, (_, i) => i + 1));
        expect((await store.getEvent('m1'))!.head).to.equal(n);
      });

      it('loses no concurrent patch to different keys', async function () {
        await create();
        const other = await h.peer();
        const n = 60;
        await Promise.all(
          Array.from({ length: n }, (_, i) => (i % 2 ? other : store).append('m1', patch({ [`k${i}`]: i }), { now: T0 })),
        );
        for (const s of [store, other]) {
          const score = (await s.snapshot('m1'))!.snapshot.score;
          expect(Object.keys(score)).to.have.length(n);
        }
      });
    });

    describe('presence', function () {
      it('counts viewers until they expire, with later touches moving the expiry', async function () {
        await create();
        await store.touchPresence('m1', 'v1', T0 + 1000);
        await store.touchPresence('m1', 'v2', T0 + 5000);
        await store.touchPresence('m1', 'v3', T0 + 1000);
        await store.touchPresence('m1', 'v3', T0 + 9000);
        expect(await store.countPresence('m1', T0 + 600)).to.equal(3);
        expect(await store.countPresence('m1', T0 + 2000)).to.equal(2);
        expect(await store.countPresence('m1', T0 + 6000)).to.equal(1);
        expect(await store.countPresence('ghost', T0)).to.equal(0);
      });

      it('touches many viewers of one event at once', async function () {
        await create();
        const many = Array.from({ length: 1200 }, (_, i) => `v${i}`);
        await store.touchPresenceMany('m1', many, T0 + 5000);
        await store.touchPresenceMany('m1', ['v0', 'v1'], T0 + 1000);
        expect(await store.countPresence('m1', T0 + 600)).to.equal(1200);
        expect(await store.countPresence('m1', T0 + 2000)).to.equal(1198);
        await store.touchPresenceMany('ghost', many, T0 + 5000);
        expect(await store.countPresence('ghost', T0 + 600)).to.equal(0);
      });

      it('removes a viewer at once', async function () {
        await create();
        await store.touchPresence('m1', 'v1', T0 + 5000);
        await store.touchPresence('m1', 'v2', T0 + 5000);
        expect(await store.countPresence('m1', T0 + 600)).to.equal(2);
        await store.removePresence('m1', 'v1');
        expect(await store.countPresence('m1', T0 + 600)).to.equal(1);
        await store.touchPresence('m1', 'v2', T0 + 5000);
        await store.removePresence('m1', 'v2');
        expect(await store.countPresence('m1', T0 + 600)).to.equal(0);
      });

      it('lists present viewers a page at a time in a stable order', async function () {
        await create();
        for (const v of ['c', 'a', 'e', 'b', 'd']) await store.touchPresence('m1', v, T0 + 5000);
        await store.touchPresence('m1', 'gone', T0 + 100);
        const p1 = await store.listPresence('m1', T0 + 1000, null, 2);
        expect(p1).to.deep.equal({ members: ['a', 'b'], next: 'b' });
        const p2 = await store.listPresence('m1', T0 + 1000, p1.next, 2);
        expect(p2).to.deep.equal({ members: ['c', 'd'], next: 'd' });
        expect(await store.listPresence('m1', T0 + 1000, p2.next, 2)).to.deep.equal({ members: ['e'], next: null });
        expect(await store.listPresence('ghost', T0, null, 2)).to.deep.equal({ members: [], next: null });
      });

      it('is shared by every server on the store and dropped with the event', async function () {
        await create();
        const other = await h.peer();
        await store.touchPresence('m1', 'v1', T0 + 5000);
        await other.touchPresence('m1', 'v2', T0 + 5000);
        await waitFor(async () => (await store.countPresence('m1', T0 + 600)) === 2, 2000, 'both touches');
        await waitFor(async () => (await other.countPresence('m1', T0 + 600)) === 2, 2000, 'both touches');
        await store.deleteEvent('m1');
        await create();
        expect(await store.countPresence('m1', T0 + 600)).to.equal(0);
      });
    });

    describe('idempotency', function () {
      it('goes new → pending → done, and release lets a retry start anew', async function () {
        expect(await store.beginIdempotent('k1', T0)).to.deep.equal({ state: 'new' });
        expect(await store.beginIdempotent('k1', T0)).to.deep.equal({ state: 'pending' });
        await store.completeIdempotent('k1', 'fp', 201, '{"seq":1}', T0);
        expect(await store.beginIdempotent('k1', T0)).to.deep.equal({ state: 'done', fingerprint: 'fp', status: 201, body: '{"seq":1}' });
        expect(await store.beginIdempotent('k2', T0)).to.deep.equal({ state: 'new' });
        await store.releaseIdempotent('k2');
        expect(await store.beginIdempotent('k2', T0)).to.deep.equal({ state: 'new' });
      });
    });

    describe('rate limits', function () {
      it('allows the limit within a window, then refuses with the time left, and resets', async function () {
        const now = T0 + 3000; // 3 s into a 10 s window
        for (let i = 0; i < 3; i++) expect(await store.rateHit('chat:u1', 3, 10_000, now)).to.deep.equal({ allowed: true, retryAfterMs: 0 });
        expect(await store.rateHit('chat:u1', 3, 10_000, now + 500)).to.deep.equal({ allowed: false, retryAfterMs: 6500 });
        expect((await store.rateHit('chat:u2', 3, 10_000, now)).allowed).to.equal(true);
        expect((await store.rateHit('chat:u1', 3, 10_000, T0 + 10_000)).allowed).to.equal(true);
      });
    });

    describe('changes', function () {
      it('notifies listeners after an append and a delete, until unsubscribed', async function () {
        await create();
        const seen: string[] = [];
        const off = store.onChange((id) => seen.push(id));
        await append(patch({ a: 1 }));
        await waitFor(() => seen.includes('m1'), 2000, 'a wake after append');
        seen.length = 0;
        await store.deleteEvent('m1');
        await waitFor(() => seen.includes('m1'), 2000, 'a wake after delete');
        off();
        seen.length = 0;
        const others: string[] = [];
        store.onChange((id) => others.push(id));
        await create('m2');
        await store.append('m2', patch({ a: 1 }), { now: T0 });
        await waitFor(() => others.includes('m2'), 2000, 'a wake to the other listener');
        expect(seen).to.deep.equal([]);
      });

      it('wakes the listeners of every server on the store', async function () {
        await create();
        const other = await h.peer();
        const seen: string[] = [];
        other.onChange((id) => seen.push(id));
        await append(patch({ a: 1 }));
        await waitFor(() => seen.includes('m1'), 2000, 'a wake on the other server');
      });
    });

    describe('ping and close', function () {
      it('answers ping, closes idempotently, and refuses ping once closed', async function () {
        await store.ping();
        await store.close();
        await store.close();
        await expectHubError(store.ping(), 'unavailable');
      });

      it('refuses writes once closed, as unavailable', async function () {
        await store.close();
        await expectHubError(create('late'), 'unavailable');
        await expectHubError(store.append('m1', { kind: 'notice', title: 'late' } as never, { now: 0 }), 'unavailable');
        await expectHubError(store.rateHit('chat|x', 5, 10_000, 0), 'unavailable');
      });
    });
  });
}
