import { expect } from 'chai';
import { HubError } from '../lib/model/errors.js';
import { draftTail, entryJson, entryTs } from '../lib/model/entry.js';
import type { StoreObserver } from '../lib/observer.js';
import { StatsRing } from '../lib/model/stats-ring.js';
import { InstrumentedStore } from '../lib/store/instrumented.js';
import { MemoryStore } from '../lib/store/memory/store.js';
import { type Store } from '../lib/store/types.js';
import { STATS_EMOJI_PER_MINUTE, type StatsCounters } from '../lib/model/records.js';
import { makeHarness, type StoreHarness } from './support/stores.js';

const META = { title: 't', sport: 's', visibility: 'public' as const };
const counters = (c: Partial<StatsCounters>): StatsCounters => ({ peakViewers: 0, reactions: 0, chat: 0, emoji: {}, ...c });
const memory = () => new MemoryStore({ ringSize: 8, chatHistory: 5, maxEvents: 10, idempotencyTtlMs: 60_000, idempotencyMax: 100, statsMaxEvents: 2 });

describe('StatsRing', () => {
  it('merges a minute: peak by maximum, counts and emoji by adding', () => {
    const ring = new StatsRing();
    ring.merge(100, counters({ peakViewers: 5, reactions: 3, chat: 1, emoji: { '🔥': 2, ':)': 1 } }));
    ring.merge(100, counters({ peakViewers: 2, reactions: 1, chat: 2, emoji: { '🔥': 1 } }));
    const [m] = ring.read(0);
    expect(m).to.deep.include({ minute: 100, peakViewers: 5, reactions: 4, chat: 3 });
    expect({ ...m!.emoji }).to.deep.equal({ '🔥': 3, ':)': 1 });
  });

  it('keeps the last 60 minutes and ignores a minute older than that', () => {
    const ring = new StatsRing();
    for (let minute = 0; minute < 130; minute++) ring.merge(minute, counters({ chat: 1 }));
    const minutes = ring.read(0).map((m) => m.minute);
    expect(minutes).to.have.length(60);
    expect(minutes[0]).to.equal(70);
    expect(minutes[59]).to.equal(129);
    ring.merge(69, counters({ chat: 5 }));
    expect(ring.read(0).map((m) => m.minute)).to.not.include(69);
    expect(ring.read(120)).to.have.length(10);
  });

  it('keeps at most STATS_EMOJI_PER_MINUTE distinct emoji, and __proto__ as a plain key', () => {
    const ring = new StatsRing();
    const many: Record<string, number> = {};
    for (let i = 0; i < STATS_EMOJI_PER_MINUTE + 10; i++) many[`e${i}`] = 1;
    ring.merge(1, counters({ emoji: JSON.parse('{"__proto__": 2}') as Record<string, number> }));
    ring.merge(1, counters({ emoji: many }));
    const emoji = ring.read(0)[0]!.emoji;
    expect(Object.keys(emoji)).to.have.length(STATS_EMOJI_PER_MINUTE);
    expect(Object.getOwnPropertyDescriptor(emoji, '__proto__')?.value).to.equal(2);
    expect(({} as Record<string, unknown>)['e0']).to.equal(undefined);
  });

  it('hands out copies: changing a read does not change the ring', () => {
    const ring = new StatsRing();
    ring.merge(1, counters({ chat: 1, emoji: { a: 1 } }));
    const first = ring.read(0)[0]!;
    first.chat = 99;
    first.emoji['a'] = 99;
    expect(ring.read(0)[0]).to.deep.include({ chat: 1 });
    expect(ring.read(0)[0]!.emoji['a']).to.equal(1);
  });
});

for (const kind of ['memory', 'redis'] as const) {
  describe(`Store contract: engagement stats, ${kind}`, () => {
    let h: StoreHarness;
    let store: Store;
    beforeEach(async () => {
      h = await makeHarness(kind, { statsMaxEvents: 2 });
      store = h.store;
    });
    afterEach(() => h?.dispose());

    it('merges an event-minute from several servers: peak by maximum, counts and emoji by adding', async () => {
      await store.createEvent('m1', META, 'live', 0);
      const other = await h.peer();
      await store.recordStats('m1', 11, counters({ peakViewers: 7, reactions: 2, emoji: { '🔥': 2 } }));
      await other.recordStats('m1', 11, counters({ peakViewers: 5, reactions: 3, chat: 1, emoji: { '🔥': 1, ':-)': 2 } }));
      await store.recordStats('m1', 10, counters({ chat: 4 }));
      await store.recordStats('m1', 12, counters({ peakViewers: 1 }));
      const all = await other.readStats('m1', 0);
      expect(all.map((m) => m.minute)).to.deep.equal([10, 11, 12]);
      expect(all[1]).to.deep.include({ minute: 11, peakViewers: 7, reactions: 5, chat: 1 });
      expect({ ...all[1]!.emoji }).to.deep.equal({ '🔥': 3, ':-)': 2 });
      expect((await store.readStats('m1', 11)).map((m) => m.minute)).to.deep.equal([11, 12]);
    });

    it('keeps the 60 minutes up to the newest, and ignores a minute already older', async () => {
      await store.createEvent('m1', META, 'live', 0);
      for (const minute of [100, 130, 159, 160]) await store.recordStats('m1', minute, counters({ chat: 1 }));
      await store.recordStats('m1', 100, counters({ chat: 1 }));
      expect((await store.readStats('m1', 0)).map((m) => m.minute)).to.deep.equal([130, 159, 160]);
    });

    it('keeps at most STATS_EMOJI_PER_MINUTE distinct emoji a minute, __proto__ as a plain key', async () => {
      await store.createEvent('m1', META, 'live', 0);
      const many: Record<string, number> = JSON.parse('{"__proto__": 2}') as Record<string, number>;
      for (let i = 0; i < STATS_EMOJI_PER_MINUTE + 10; i++) many[`e${i}`] = 1;
      await store.recordStats('m1', 1, counters({ reactions: 76, emoji: many }));
      const [m] = await store.readStats('m1', 0);
      expect(Object.keys(m!.emoji)).to.have.length(STATS_EMOJI_PER_MINUTE);
      expect(Object.getOwnPropertyDescriptor(m!.emoji, '__proto__')?.value).to.equal(2);
      expect(m!.reactions).to.equal(76);
    });

    it('records nothing for an unknown event and drops the stats with the event', async () => {
      await store.recordStats('ghost', 1, counters({ chat: 1 }));
      expect(await store.readStats('ghost', 0)).to.deep.equal([]);
      await store.createEvent('m1', META, 'live', 0);
      await store.recordStats('m1', 1, counters({ chat: 1 }));
      await store.deleteEvent('m1');
      await store.createEvent('m1', META, 'live', 0);
      expect(await store.readStats('m1', 0)).to.deep.equal([]);
    });
  });
}

describe('MemoryStore engagement stats', () => {
  it('keeps stats for at most statsMaxEvents events, dropping the least recently recorded', async () => {
    const store = memory();
    for (const id of ['a', 'b', 'c']) {
      await store.createEvent(id, META, 'live', 0);
      await store.recordStats(id, 1, counters({ chat: 1 }));
    }
    expect(await store.readStats('a', 0)).to.deep.equal([]);
    expect(await store.readStats('c', 0)).to.have.length(1);
  });

  it('stamps ts on the entries it appends', async () => {
    const store = memory();
    await store.createEvent('m1', META, 'live', 0);
    const { entry } = await store.append('m1', { kind: 'notice', data: { title: 'hi' } }, { now: 1234 });
    expect(entry.ts).to.equal(1234);
  });
});

describe('InstrumentedStore', () => {
  const recorder = () => {
    const ops: Array<{ op: string; failed: boolean; seconds: number }> = [];
    const kinds: string[] = [];
    const observer: StoreObserver = {
      operation: (op, seconds, failed) => ops.push({ op, seconds, failed }),
      appended: (kind) => kinds.push(kind),
    };
    return { ops, kinds, observer };
  };

  it('times every call and counts appended kinds, passing results through', async () => {
    const { ops, kinds, observer } = recorder();
    const store = new InstrumentedStore(memory(), observer);
    expect(store.kind).to.equal('memory');
    await store.createEvent('m1', META, 'live', 0);
    const { entry } = await store.append('m1', { kind: 'score', op: 'set', data: { a: 1 } }, { now: 5 });
    expect(entry.seq).to.equal(1);
    expect(ops.map((o) => o.op)).to.deep.equal(['createEvent', 'append']);
    expect(ops.every((o) => !o.failed && o.seconds >= 0)).to.equal(true);
    expect(kinds).to.deep.equal(['score']);
  });

  it('counts a failure only for non-domain errors; a 404 or 409 is an answer', async () => {
    const { ops, kinds, observer } = recorder();
    const store = new InstrumentedStore(memory(), observer);
    const refused = await store.append('ghost', { kind: 'notice', data: { title: 'x' } }, { now: 1 }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(HubError);
    const broken: Store = memory();
    broken.getEvent = () => Promise.reject(new Error('connection reset'));
    const failing = new InstrumentedStore(broken, observer);
    const err = await failing.getEvent('m1').catch((e: unknown) => e);
    expect((err as Error).message).to.equal('connection reset');
    expect(ops.map((o) => [o.op, o.failed])).to.deep.equal([
      ['append', false],
      ['getEvent', true],
    ]);
    expect(kinds).to.deep.equal([]);
  });
});

describe('a stored delta\'s JSON (lib/model/entry.ts)', () => {
  it('is {"seq","ts",...draft} for both stores, and its ts is read from that head only', () => {
    const json = entryJson(7, 1234, draftTail({ kind: 'score', data: { ts: 9 } } as never));
    expect(json).to.equal('{"seq":7,"ts":1234,"kind":"score","data":{"ts":9}}');
    expect(entryTs(json)).to.equal(1234);
    expect(entryTs('{"seq":1,"kind":"score","data":{"ts":9}}')).to.be.NaN;
    // A draft cannot smuggle a seq or ts of its own past the store's.
    expect(entryJson(1, 5, draftTail({ kind: 'notice', seq: 99, ts: 1, data: {} } as never))).to.equal('{"seq":1,"ts":5,"kind":"notice","data":{}}');
  });

  it('is the same text in memory and on Redis for the same append', async () => {
    const texts: string[] = [];
    for (const kind of ['memory', 'redis'] as const) {
      const h = await makeHarness(kind);
      try {
        await h.store.createEvent('layout', META, 'live', 1000);
        const { entry } = await h.store.append('layout', { kind: 'score', data: { home: 1 } } as never, { now: 2000 });
        const read = await h.store.read('layout', 0, 10);
        expect(read!.entries[0]!.json).to.equal(entry.json);
        expect(read!.entries[0]!.ts).to.equal(2000);
        texts.push(entry.json);
      } finally {
        await h.dispose();
      }
    }
    expect(texts[0]).to.equal(texts[1]);
  });
});
