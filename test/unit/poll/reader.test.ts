import { expect } from 'chai';
import { NOOP_OBSERVER } from '../../../lib/observer.js';
import { HeadCache } from '../../../lib/poll/head-cache.js';
import { ALL } from '../../../lib/poll/filter.js';
import { PollReader, type Outcome, type PollRequest } from '../../../lib/poll/reader.js';
import { MemoryStore } from '../../../lib/store/memory/store.js';
import { FakeClock } from '../../../lib/util/clock.js';
import { TEST_OPTIONS } from '../../support/stores.js';

const META = { title: 't', sport: 's', visibility: 'public' as const };

describe('PollReader (lib/poll/reader.ts)', () => {
  let store: MemoryStore;
  let reads: number;
  let reader: PollReader;
  let clock: FakeClock;
  let epoch: string;
  const req = (over: Partial<PollRequest> = {}): PollRequest => ({ subs: [], viewer: null, holdMs: 1000, filter: ALL, principal: null, multi: false, ...over });
  const inspect = (cursor: string | null, over: Partial<PollRequest> = {}, heads?: HeadCache): Promise<Outcome> =>
    reader.inspect({ eventId: 'e1', cursor }, req(over), heads);

  beforeEach(async () => {
    clock = new FakeClock();
    store = new MemoryStore({ ...TEST_OPTIONS, ringSize: 4 });
    // Counts the store's reads: what the reader saves is reads.
    const read = store.read.bind(store);
    reads = 0;
    store.read = (...args) => {
      reads += 1;
      return read(...args);
    };
    reader = new PollReader(store, clock, NOOP_OBSERVER, { maxBatch: 16, presenceTtlMs: 30_000 });
    epoch = (await store.createEvent('e1', META, 'live', clock.now()))!.epoch;
    await store.append('e1', { kind: 'score', data: { home: 1 } } as never, { now: clock.now() });
  });
  afterEach(() => store.close());
  /** The tag of e1's head (cursors here are written without one, as old clients send them). */
  const headTag = async (): Promise<string> => (await store.getEvent('e1'))!.tag;

  it('answers a join with the snapshot, a cursor behind with the deltas since, a cursor at the head with where to wait', async () => {
    const join = await inspect(null);
    expect(join).to.include({ kind: 'answer', why: 'snapshot' });
    const behind = await inspect(`${epoch}-0`);
    expect(behind).to.include({ kind: 'answer', why: 'delta' });
    expect((behind as unknown as { entries: unknown[] }).entries).to.have.length(1);
    expect(await inspect(`${epoch}-1`)).to.deep.equal({ kind: 'wait', epoch, seq: 1, tag: await headTag() });
  });

  it('resets a cursor ahead of the log (missed null), and refuses a malformed one naming the field', async () => {
    const ahead = await inspect(`${epoch}-9`);
    expect(ahead).to.include({ kind: 'answer', why: 'reset' });
    expect(JSON.parse((ahead as { body: string }).body).missed).to.equal(null);
    const multi = await reader.inspect({ eventId: 'e1', cursor: 'garbage' }, req({ multi: true }));
    expect((multi as { error: { field?: string } }).error.field).to.equal('subs.e1');
  });

  it('resets a cursor of another epoch or older than the ring, with the snapshot', async () => {
    expect(await inspect(`${'other'}-1`)).to.include({ kind: 'answer', why: 'reset' });
    for (let i = 0; i < 6; i++) await store.append('e1', { kind: 'notice', type: 'info', data: { text: `n${i}` } } as never, { now: clock.now() });
    const old = await inspect(`${epoch}-0`);
    expect(old).to.include({ kind: 'answer', why: 'reset' });
    expect(JSON.parse((old as { body: string }).body).reset).to.equal(true);
  });

  it('refuses a private event to an anonymous poll and an unknown event', async () => {
    await store.createEvent('p1', { ...META, visibility: 'private' }, 'live', clock.now());
    const priv = await reader.inspect({ eventId: 'p1', cursor: `${epoch}-0` }, req());
    expect((priv as { error: { status: number } }).error.status).to.equal(401);
    const missing = await reader.inspect({ eventId: 'nope', cursor: `${epoch}-0` }, req());
    expect((missing as { error: { code: string } }).error.code).to.equal('not_found');
  });

  it('shares one store read between polls with the same cursor and filter that arrive together', async () => {
    reads = 0;
    const cursor = `${epoch}-0`;
    const [a, b, c] = await Promise.all([inspect(cursor), inspect(cursor), inspect(cursor)]);
    expect(reads).to.equal(1);
    expect((a as { body: string }).body).to.equal((b as { body: string }).body).and.equal((c as { body: string }).body);
  });

  it('with the head cache: waits at a known head without a read, and reads again once the event changed', async () => {
    const heads = new HeadCache(clock, { keptBytes: 1 << 20, keptTtlMs: 1000 });
    const at = `${epoch}-1`;
    const request = req({ subs: [{ eventId: 'e1', cursor: at }] });
    expect(reader.waitsAtKnownHead(request, heads, () => undefined), 'nothing known yet').to.equal(null);
    await inspect(at, {}, heads);
    reads = 0;
    expect(reader.waitsAtKnownHead(request, heads, () => undefined)).to.deep.equal([{ kind: 'wait', epoch, seq: 1, tag: await headTag() }]);
    expect(await inspect(at, {}, heads)).to.deep.equal({ kind: 'wait', epoch, seq: 1, tag: await headTag() });
    expect(reads, 'parked without reading').to.equal(0);
    heads.changed('e1');
    expect(reader.waitsAtKnownHead(request, heads, () => undefined)).to.equal(null);
    await inspect(at, {}, heads);
    expect(reads).to.equal(1);
  });

  it('serves the next poll behind the head from the kept answer, not the store', async () => {
    const heads = new HeadCache(clock, { keptBytes: 1 << 20, keptTtlMs: 1000 });
    const behind = `${epoch}-0`;
    const first = await inspect(behind, {}, heads);
    reads = 0;
    const second = await inspect(behind, {}, heads);
    expect(reads).to.equal(0);
    expect((second as { body: string }).body).to.equal((first as { body: string }).body);
  });
});
