import { expect } from 'chai';
import { seqOf } from '../support/cursors.js';
import type { Principal } from '../../lib/model/access.js';
import { FakeClock } from '../../lib/util/clock.js';
import { HubError } from '../../lib/model/errors.js';
import { ALL, parseFilter } from '../../lib/poll/filter.js';
import { Hub, type PollOptions } from '../../lib/hub.js';
import type { PollAnswer } from '../../lib/protocol.js';
import { MemoryStore } from '../../lib/store/memory/store.js';

const admin: Principal = { sub: 'admin', name: null, scopes: new Set(['admin']), events: null, expiresAt: null };

function setup(overrides: Partial<{ ringSize: number; maxBatch: number }> = {}) {
  const clock = new FakeClock();
  const ringSize = overrides.ringSize ?? 1024;
  const store = new MemoryStore({ ringSize, chatHistory: 50, maxEvents: 100, idempotencyTtlMs: 60_000, idempotencyMax: 1000 });
  const hub = new Hub(store, clock, { holdTimeoutMs: 25_000, maxHoldMs: 60_000, maxBatch: overrides.maxBatch ?? 256, ringSize, presenceTtlMs: 35_000 });
  return { clock, store, hub };
}

type Setup = ReturnType<typeof setup>;
async function close(s: Setup): Promise<void> {
  s.hub.close();
  await s.store.close();
}
const opts = (o: Partial<PollOptions> = {}): PollOptions => ({ viewer: null, holdMs: 25_000, filter: ALL, principal: null, ...o });
const parse = (body: string | null): PollAnswer => JSON.parse(body!) as PollAnswer;
/** Lets pending promise callbacks run (the store is async even in memory). */
const settle = () => new Promise<void>((r) => setImmediate(r));

/** Counts the store reads from now on (`.n`). */
function countReads(s: Setup): { n: number } {
  const counter = { n: 0 };
  const read = s.store.read.bind(s.store);
  s.store.read = (...args) => {
    counter.n++;
    return read(...args);
  };
  return counter;
}

async function live(s: Setup, id = 'm1'): Promise<string> {
  await s.hub.putEvent(id, { title: 'Match', sport: 'football', state: 'live' }, admin);
  return parse(await s.hub.poll(id, null, opts())).cursor;
}

describe('hub.poll(event, cursor)', () => {
  let s: Setup;
  beforeEach(() => (s = setup()));
  afterEach(async () => {
    s.hub.close();
    await s.store.close();
  });

  it('answers a join with the snapshot and the head cursor', async () => {
    await s.hub.putEvent('m1', { title: 'Final' }, admin);
    const a = parse(await s.hub.poll('m1', null, opts()));
    expect(a.snapshot?.meta.title).to.equal('Final');
    expect(a.cursor).to.match(/^[a-z0-9]+-0\.00000000$/);
    expect(a.deltas).to.deep.equal([]);
  });

  it('answers at once when the cursor is behind the head', async () => {
    const c0 = await live(s);
    await s.hub.publishScore('m1', { data: { home: 1 } }, admin);
    await s.hub.publishScore('m1', { op: 'patch', data: { away: 1 } }, admin);
    const a = parse(await s.hub.poll('m1', c0, opts()));
    expect(a.deltas.map((d) => d.seq)).to.deep.equal([1, 2]);
    expect(a.more).to.equal(false);
  });

  it('holds at the head until a delta arrives, then answers every waiter', async () => {
    const c0 = await live(s);
    const waiting = [1, 2, 3].map(() => s.hub.poll('m1', c0, opts()));
    await settle();
    expect(s.hub.heldPolls).to.equal(3);
    await s.hub.publishScore('m1', { type: 'goal', data: { home: 1 } }, admin);
    const answers = (await Promise.all(waiting)).map(parse);
    for (const a of answers) expect(a.deltas.map((d) => d.kind)).to.deep.equal(['score']);
    expect(s.hub.heldPolls).to.equal(0);
  });

  it('answers with the same cursor when the hold times out on the clock', async () => {
    const c0 = await live(s);
    const p = s.hub.poll('m1', c0, opts({ holdMs: 5000 }));
    await settle();
    s.clock.advance(4900);
    await settle();
    expect(s.hub.heldPolls).to.equal(1);
    s.clock.advance(200);
    const a = parse(await p);
    expect(a.cursor).to.equal(c0);
    expect(a.deltas).to.deep.equal([]);
  });

  it('answers when the token expires during the hold', async () => {
    const c0 = await live(s);
    const shortLived: Principal = { ...admin, expiresAt: s.clock.now() + 1000 };
    const p = s.hub.poll('m1', c0, opts({ principal: shortLived }));
    await settle();
    s.clock.advance(1100);
    expect(parse(await p).cursor).to.equal(c0);
  });

  it('keeps a filtered poll held but moves its cursor past what it skipped', async () => {
    const c0 = await live(s);
    const p = s.hub.poll('m1', c0, opts({ filter: parseFilter('notice', undefined) }));
    await settle();
    await s.hub.publishScore('m1', { data: { home: 1 } }, admin);
    await settle();
    expect(s.hub.heldPolls).to.equal(1);
    await s.hub.publishNotice('m1', { title: 'Kick-off' }, admin);
    const a = parse(await p);
    expect(a.deltas.map((d) => [d.seq, d.kind])).to.deep.equal([[2, 'notice']]);
    expect(seqOf(a.cursor)).to.equal(2);
  });

  it('narrows score and notice deltas by type', async () => {
    const c0 = await live(s);
    await s.hub.publishScore('m1', { type: 'corner', data: { c: 1 } }, admin);
    await s.hub.publishScore('m1', { type: 'goal', data: { home: 1 } }, admin);
    const a = parse(await s.hub.poll('m1', c0, opts({ filter: parseFilter(undefined, 'goal') })));
    expect(a.deltas.map((d) => d.seq)).to.deep.equal([2]);
  });

  it('batches at most MAX_BATCH deltas and says more', async () => {
    await close(s);
    s = setup({ maxBatch: 2 });
    const c0 = await live(s);
    for (let i = 0; i < 5; i++) await s.hub.publishScore('m1', { data: { i } }, admin);
    const a = parse(await s.hub.poll('m1', c0, opts()));
    expect(a.deltas.map((d) => d.seq)).to.deep.equal([1, 2]);
    expect(a.more).to.equal(true);
  });

  it('resets with the missed count when the cursor fell out of the ring', async () => {
    await close(s);
    s = setup({ ringSize: 3 });
    const c0 = await live(s);
    for (let i = 0; i < 6; i++) await s.hub.publishScore('m1', { data: { i } }, admin);
    const a = parse(await s.hub.poll('m1', c0, opts()));
    expect(a.reset).to.equal(true);
    expect(a.missed).to.equal(6);
    expect(a.snapshot?.score).to.deep.equal({ i: 5 });
    expect(seqOf(a.cursor)).to.equal(6);
  });

  it('resets with missed null when the epoch changed', async () => {
    const c0 = await live(s);
    await s.hub.deleteEvent('m1', admin);
    await live(s);
    const a = parse(await s.hub.poll('m1', c0, opts()));
    expect(a.reset).to.equal(true);
    expect(a.missed).to.equal(null);
  });

  it('resets a cursor ahead of the head, missed null', async () => {
    const c0 = await live(s);
    const a = parse(await s.hub.poll('m1', c0.replace(/-\d+\.[0-9a-f]{8}$/, '-99'), opts()));
    expect(a.reset).to.equal(true);
    expect(a.missed).to.equal(null);
    expect(a.cursor).to.equal(c0);
  });

  it('answers a held poll when the event ends, even one filtering out status', async () => {
    const c0 = await live(s);
    const p = s.hub.poll('m1', c0, opts({ filter: parseFilter('score', undefined) }));
    await settle();
    await s.hub.end('m1', admin);
    const a = parse(await p);
    expect(a.ended).to.equal(true);
    const again = parse(await s.hub.poll('m1', a.cursor, opts()));
    expect(again.ended).to.equal(true);
  });

  it('answers held polls of a deleted event with 404', async () => {
    const c0 = await live(s);
    const p = s.hub.poll('m1', c0, opts());
    await settle();
    await s.hub.deleteEvent('m1', admin);
    try {
      await p;
      expect.fail('should reject');
    } catch (err) {
      expect((err as HubError).code).to.equal('not_found');
    }
  });

  it('drops an aborted hold at once and answers it with null', async () => {
    const c0 = await live(s);
    // The engagement stats' flush timer may run since the join; the hold's own timer must go.
    const baseline = s.clock.activeTimers;
    const controller = new AbortController();
    const p = s.hub.poll('m1', c0, opts({ signal: controller.signal }));
    await settle();
    controller.abort();
    expect(await p).to.equal(null);
    expect(s.hub.heldPolls).to.equal(0);
    expect(s.clock.activeTimers).to.equal(baseline);
  });

  it('drains: answers every hold with its cursor and a retry advice, then refuses', async () => {
    const c0 = await live(s);
    const p = s.hub.poll('m1', c0, opts());
    await settle();
    await s.hub.drain();
    const a = parse(await p);
    expect(a.cursor).to.equal(c0);
    expect(a.advice?.retryMs).to.be.within(0, 1000);
    try {
      await s.hub.poll('m1', c0, opts());
      expect.fail('should refuse');
    } catch (err) {
      expect((err as HubError).code).to.equal('draining');
    }
  });
});

describe('hub presence', () => {
  let s: Setup;
  beforeEach(() => (s = setup()));
  afterEach(async () => {
    s.hub.close();
    await s.store.close();
  });

  it('counts a viewer while its poll is held and for PRESENCE_TTL_MS after', async () => {
    const c0 = await live(s);
    const p = s.hub.poll('m1', c0, opts({ viewer: 'v1', holdMs: 10_000 }));
    await settle();
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(1);
    s.clock.advance(10_000);
    await p;
    s.clock.advance(34_000);
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(1);
    s.clock.advance(2_000);
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(0);
  });

  it('removes a viewer at once on leave', async () => {
    await live(s);
    await s.hub.join('m1', 'v2', null);
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(1);
    await s.hub.leave('m1', 'v2', null);
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(0);
  });

  it('uses the token sub as the viewer id over any other', async () => {
    await live(s);
    const a = parse(await s.hub.join('m1', 'ignored', { ...admin, sub: 'alice' }));
    expect(a.viewerId).to.equal('alice');
  });
});

describe('hub publishing', () => {
  let s: Setup;
  beforeEach(() => (s = setup()));
  afterEach(async () => {
    s.hub.close();
    await s.store.close();
  });

  it('refuses a score version that does not grow, and appends nothing', async () => {
    await live(s);
    await s.hub.publishScore('m1', { version: 5, data: { a: 1 } }, admin);
    try {
      await s.hub.publishScore('m1', { version: 5, data: { a: 2 } }, admin);
      expect.fail('should refuse');
    } catch (err) {
      expect((err as HubError).code).to.equal('stale_version');
    }
    const detail = await s.hub.getEvent('m1', null);
    expect(detail.snapshot.score).to.deep.equal({ a: 1 });
    expect(seqOf(detail.cursor)).to.equal(1);
  });

  it('appends a status delta when PUT changes the state, and nothing when it changes nothing', async () => {
    await s.hub.putEvent('m1', { title: 'A' }, admin);
    await s.hub.putEvent('m1', { title: 'A' }, admin);
    expect(seqOf((await s.hub.getEvent('m1', null)).cursor)).to.equal(0);
    await s.hub.putEvent('m1', { state: 'live' }, admin);
    const d = await s.hub.getEvent('m1', null);
    expect(seqOf(d.cursor)).to.equal(1);
    expect(d.meta.title).to.equal('A');
    expect(d.state).to.equal('live');
  });

  it('needs a token with the publish scope', async () => {
    try {
      await s.hub.putEvent('m1', {}, null);
      expect.fail('should refuse');
    } catch (err) {
      expect((err as HubError).code).to.equal('unauthorized');
    }
    try {
      await s.hub.putEvent('m1', {}, { ...admin, scopes: new Set() });
      expect.fail('should refuse');
    } catch (err) {
      expect((err as HubError).code).to.equal('forbidden');
    }
  });
});

describe('hub.leave(event, viewer) with a poll still held', () => {
  it('keeps the viewer out of presence when that poll ends afterwards', async () => {
    const s = setup();
    const c0 = await live(s);
    const controller = new AbortController();
    const p = s.hub.poll('m1', c0, opts({ viewer: 'v9', signal: controller.signal }));
    await settle();
    await s.hub.leave('m1', 'v9', null);
    controller.abort();
    await p;
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(0);
    const q = s.hub.poll('m1', c0, opts({ viewer: 'v9' }));
    await settle();
    await s.hub.leave('m1', 'v9', null);
    await s.hub.publishScore('m1', { data: { a: 1 } }, admin);
    await q;
    await settle();
    expect((await s.hub.presence('m1', null, false, null)).viewers).to.equal(0);
    s.hub.close();
    await s.store.close();
  });
});

describe('hub.poll at the head of an unchanged event', () => {
  it('parks without reading the store again after a wake, and still sees the next delta', async () => {
    const s = setup();
    const c0 = await live(s);
    const first = s.hub.poll('m1', c0, opts());
    await settle();
    await s.hub.publishScore('m1', { data: { a: 1 } }, admin);
    const c1 = parse(await first).cursor;
    const reads = countReads(s);
    const again = s.hub.poll('m1', c1, opts());
    await settle();
    expect(reads.n).to.equal(0);
    expect(s.hub.heldPolls).to.equal(1);
    await s.hub.publishScore('m1', { data: { a: 2 } }, admin);
    expect(parse(await again).deltas.map((d) => d.seq)).to.deep.equal([2]);
    expect(reads.n).to.equal(1);
    s.hub.close();
    await s.store.close();
  });
});

describe('hub.poll at a known head while the store refuses presence writes', () => {
  it('parks at once, then answers with the store refusal, as a poll that read first would be', async () => {
    const s = setup();
    const c0 = await live(s);
    const first = s.hub.poll('m1', c0, opts({ viewer: 'v1' }));
    await settle();
    await s.hub.publishScore('m1', { data: { a: 1 } }, admin);
    const c1 = parse(await first).cursor;
    s.store.touchPresence = () => Promise.reject(new HubError('unavailable', 'the store is away'));
    const refused = await s.hub.poll('m1', c1, opts({ viewer: 'v1' })).then(
      () => null,
      (err: HubError) => err.code,
    );
    expect(refused).to.equal('unavailable');
    expect(s.hub.heldPolls).to.equal(0);
    // A poll without a viewer writes no presence, so it parks as before.
    void s.hub.poll('m1', c1, opts());
    await settle();
    expect(s.hub.heldPolls).to.equal(1);
    s.hub.close();
    await s.store.close();
  });
});

describe('hub.poll after a change announced while nothing was parked', () => {
  it('reads once, then polls at that head park without reading', async () => {
    const s = setup();
    const c0 = await live(s);
    await s.hub.publishScore('m1', { data: { a: 1 } }, admin);
    const reads = countReads(s);
    const c1 = parse(await s.hub.poll('m1', c0, opts())).cursor;
    expect(reads.n).to.equal(1);
    const held = [s.hub.poll('m1', c1, opts()), s.hub.poll('m1', c1, opts())];
    await settle();
    expect(reads.n).to.equal(1);
    expect(s.hub.heldPolls).to.equal(2);
    await s.hub.publishScore('m1', { data: { a: 2 } }, admin);
    for (const a of await Promise.all(held)) expect(parse(a).deltas.map((d) => d.seq)).to.deep.equal([2]);
    s.hub.close();
    await s.store.close();
  });
});

describe('hub.poll behind the head of an unchanged event', () => {
  it('reads once for many polls with the same cursor and filter, and reads again after a change', async () => {
    const s = setup();
    const c0 = await live(s);
    await s.hub.publishScore('m1', { data: { a: 1 } }, admin);
    await s.hub.publishScore('m1', { data: { a: 2 } }, admin);
    const reads = countReads(s);
    const first = await Promise.all([1, 2, 3].map(() => s.hub.poll('m1', c0, opts())));
    const second = await s.hub.poll('m1', c0, opts());
    expect(reads.n, 'one read for four polls at c0').to.equal(1);
    for (const body of [...first, second]) expect(parse(body).deltas.map((d) => d.seq)).to.deep.equal([1, 2]);
    // Another filter is another answer, made from the same read (issue 16: one read per change).
    expect(parse(await s.hub.poll('m1', c0, opts({ holdMs: 0, filter: parseFilter('notice', undefined) }))).deltas).to.deep.equal([]);
    expect(reads.n, 'another filter shares the read').to.equal(1);
    await s.hub.publishScore('m1', { data: { a: 3 } }, admin);
    expect(parse(await s.hub.poll('m1', c0, opts())).deltas.map((d) => d.seq)).to.deep.equal([1, 2, 3]);
    expect(reads.n, 'a change makes the kept answer stale').to.equal(2);
    await s.hub.poll('m1', c0, opts());
    expect(reads.n).to.equal(2);
    // Kept for a second at most, however quiet the event: its viewer count ages too.
    s.clock.advance(1001);
    await s.hub.poll('m1', c0, opts());
    expect(reads.n, 'a kept answer and the shared read expire after a second').to.equal(3);
    s.hub.close();
    await s.store.close();
  });

  it('still refuses a kept answer to a poll that may not read the event', async () => {
    const s = setup();
    await s.hub.putEvent('p1', { title: 'Private', visibility: 'private', state: 'live' }, admin);
    const c0 = parse(await s.hub.poll('p1', null, opts({ principal: admin }))).cursor;
    await s.hub.publishScore('p1', { data: { a: 1 } }, admin);
    expect(parse(await s.hub.poll('p1', c0, opts({ principal: admin }))).deltas).to.have.length(1);
    const outsider: Principal = { sub: 'x', name: null, scopes: new Set(), events: [], expiresAt: null };
    const refused = await s.hub.poll('p1', c0, opts({ principal: outsider })).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).to.be.instanceOf(HubError);
    expect((refused as HubError).code).to.equal('forbidden');
    s.hub.close();
    await s.store.close();
  });
});

describe('hub.pollMany woken together', () => {
  it('builds one body for polls following the same events at the same cursors, counting each event once', async () => {
    const s = setup();
    const c1 = await live(s, 'm1');
    const c2 = await live(s, 'm2');
    const subs = [{ eventId: 'm1', cursor: c1 }, { eventId: 'm2', cursor: c2 }];
    const polls = [1, 2, 3].map(() => s.hub.pollMany(subs, opts()));
    const other = s.hub.pollMany(subs, opts({ filter: parseFilter('score', undefined) }));
    await settle();
    expect(s.hub.heldPolls).to.equal(4);
    const counted: string[] = [];
    const count = s.store.countPresence.bind(s.store);
    s.store.countPresence = (eventId, now) => {
      counted.push(eventId);
      return count(eventId, now);
    };
    await s.hub.publishScore('m1', { data: { a: 1 } }, admin);
    const bodies = await Promise.all(polls);
    expect(new Set(bodies).size, 'one body for the three alike').to.equal(1);
    const answer = JSON.parse(bodies[0]!) as { results: PollAnswer[] };
    expect(answer.results.map((r) => [r.event, r.deltas.length])).to.deep.equal([['m1', 1], ['m2', 0]]);
    expect(JSON.parse((await other)!).results[0].deltas).to.have.length(1);
    // m1 once per filter group (its answer), m2 once for every multi-event answer of the wake.
    expect(counted.filter((e) => e === 'm2')).to.have.length(1);
    s.hub.close();
    await s.store.close();
  });
});

describe('hub.pollMany when a followed event turns private', () => {
  it('answers the refused reader once, with the refusal, and counts it once', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ ringSize: 64, chatHistory: 5, maxEvents: 10, idempotencyTtlMs: 60_000, idempotencyMax: 100 });
    const answered: Array<[string, number]> = [];
    const observer = { answered: (o: string, n: number) => void answered.push([o, n]), delivered: () => undefined, viewers: () => undefined, abandoned: () => undefined };
    const hub = new Hub(store, clock, { holdTimeoutMs: 25_000, maxHoldMs: 60_000, maxBatch: 64, ringSize: 64, presenceTtlMs: 35_000, observer });
    const reader: Principal = { sub: 'r', name: null, scopes: new Set(), events: null, expiresAt: null };
    await hub.putEvent('m1', { title: 'One', state: 'live' }, admin);
    await hub.putEvent('m2', { title: 'Two', state: 'live' }, admin);
    const c1 = parse(await hub.poll('m1', null, opts())).cursor;
    const c2 = parse(await hub.poll('m2', null, opts())).cursor;
    const held = hub.pollMany([{ eventId: 'm1', cursor: c1 }, { eventId: 'm2', cursor: c2 }], opts({ principal: reader }));
    await settle();
    answered.length = 0;
    await hub.putEvent('m1', { visibility: 'private' }, admin);
    const body = JSON.parse((await held)!) as { results: Array<{ event: string; status?: number }> };
    await settle();
    expect(body.results[0]).to.include({ event: 'm1', status: 403 });
    expect(answered, 'one answer, counted once').to.deep.equal([['error', 1]]);
    hub.close();
    await store.close();
  });
});

// Issue 16: the store work of a burst is proportional to what changes, not to the polls.
describe('hub.poll: one read and one presence count per change, however many cursors wait', () => {
  function countCounts(s: Setup): { n: number } {
    const counter = { n: 0 };
    const count = s.store.countPresence.bind(s.store);
    s.store.countPresence = (...args) => {
      counter.n++;
      return count(...args);
    };
    return counter;
  }

  it('wakes polls parked at five different cursors with one read and one count', async () => {
    const s = setup();
    let cursor = await live(s);
    const cursors: string[] = [cursor];
    for (let i = 1; i <= 4; i++) {
      await s.hub.publishScore('m1', { data: { a: i } }, admin);
      cursor = parse(await s.hub.poll('m1', cursor, opts({ holdMs: 0 }))).cursor;
      cursors.push(cursor);
    }
    // Ten viewers at each cursor, each parked at the head it knew (the log moves on meanwhile: filter
    // on notices, so none of the scores is news to them and they wait at the head).
    const notices = parseFilter('notice', undefined);
    const held = cursors.flatMap((c, i) => Array.from({ length: 10 }, (_, k) => s.hub.poll('m1', c, opts({ viewer: `v${i}-${k}`, filter: notices }))));
    await settle();
    expect(s.hub.heldPolls).to.equal(50);
    const reads = countReads(s);
    const counts = countCounts(s);
    await s.hub.publishNotice('m1', { title: 'kick-off' }, admin);
    const answers = (await Promise.all(held)).map(parse);
    expect(answers.map((a) => a.deltas.map((d) => d.kind))).to.deep.equal(answers.map(() => ['notice']));
    expect(reads.n, 'one read for the wake').to.equal(1);
    expect(counts.n, 'one presence count for the wake').to.equal(1);

    // Five polls behind at the old cursors, before the next change, without a filter: the wake
    // read from seq 4 (where the notice-filtered polls waited), so the poll at 0 reads once from
    // there and the others, all above it, share that read; the count is the wake's.
    const behind = await Promise.all(cursors.map((c, i) => s.hub.poll('m1', c, opts({ viewer: `late${i}`, holdMs: 0 }))));
    expect(behind.map((b) => parse(b).deltas.length)).to.deep.equal([5, 4, 3, 2, 1]);
    expect(reads.n, 'polls behind the head share one read').to.equal(2);
    expect(counts.n, 'and the wake\'s count').to.equal(1);

    // The next change is read and counted again.
    await s.hub.publishScore('m1', { data: { a: 9 } }, admin);
    await s.hub.poll('m1', cursors[0]!, opts({ holdMs: 0 }));
    expect(reads.n).to.equal(3);
    expect(counts.n).to.equal(2);
    await close(s);
  });
});
