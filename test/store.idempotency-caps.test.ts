import { expect } from 'chai';
import { makeHarness, type StoreHarness } from './support/stores.js';

/**
 * Issue 15, finding 1, at the store: idempotency records are bounded per kind and per identity
 * on both stores, and one kind never evicts the other.
 */
for (const kind of ['memory', 'redis'] as const) {
  describe(`Store idempotency bounds: ${kind}`, function () {
    let h: StoreHarness;
    afterEach(() => h.dispose());
    const now = Date.now();
    const record = async (key: string) => {
      expect((await h.store.beginIdempotent(key, now)).state, key).to.equal('new');
      await h.store.completeIdempotent(key, 'f', 201, `{"key":"${key}"}`, now);
    };
    // beginIdempotent answers done/pending for a recorded key, and reserves a missing one.
    const state = async (key: string) => (await h.store.beginIdempotent(key, now)).state;

    it('keeps a publisher record however many viewer records come after it', async () => {
      h = await makeHarness(kind, { idempotencyMax: 100, idempotencyMaxPerIdentity: 1000 });
      await record('publisher scorer POST|/events/e/scores|k1');
      for (let i = 0; i < 120; i++) await record(`viewer fan-${i} POST|/events/e/chat|k${i}`);
      expect(await state('publisher scorer POST|/events/e/scores|k1')).to.equal('done');
      // The viewer kind is bounded: its oldest went.
      expect(await state('viewer fan-0 POST|/events/e/chat|k0')).to.equal('new');
      expect(await state('viewer fan-119 POST|/events/e/chat|k119')).to.equal('done');
    });

    it('keeps at most idempotencyMaxPerIdentity records of one identity, its oldest going first, others untouched', async () => {
      h = await makeHarness(kind, { idempotencyMax: 100, idempotencyMaxPerIdentity: 5 });
      await record('viewer bob POST|/events/e/chat|b1');
      for (let i = 1; i <= 6; i++) await record(`viewer alice POST|/events/e/chat|a${i}`);
      // Looking reserves a missing key, so the forgotten one is looked at last.
      for (let i = 2; i <= 6; i++) expect(await state(`viewer alice POST|/events/e/chat|a${i}`)).to.equal('done');
      expect(await state('viewer bob POST|/events/e/chat|b1')).to.equal('done');
      expect(await state('viewer alice POST|/events/e/chat|a1')).to.equal('new');
    });
  });
}

/** Issue 15, finding 2, at the store: engagement stats keep the most sent emoji, not the first sent. */
for (const kind of ['memory', 'redis'] as const) {
  describe(`Store stats rank emoji by count: ${kind}`, function () {
    let h: StoreHarness;
    afterEach(() => h.dispose());

    it('lets a much-sent emoji into a minute that 64 rarely-sent names filled first', async () => {
      h = await makeHarness(kind);
      const now = Date.now();
      await h.store.createEvent('ranked', { title: 'r', sport: 'other', visibility: 'public' }, 'live', now);
      const minute = Math.floor(now / 60_000);
      const rare: Record<string, number> = {};
      for (let i = 0; i < 64; i++) rare[`e${i}`] = 1;
      await h.store.recordStats('ranked', minute, { peakViewers: 0, reactions: 64, chat: 0, emoji: rare });
      await h.store.recordStats('ranked', minute, { peakViewers: 0, reactions: 50, chat: 0, emoji: { '🔥': 50 } });
      const [row] = await h.store.readStats('ranked', minute);
      expect(row!.emoji['🔥']).to.equal(50);
      expect(Object.keys(row!.emoji).length).to.equal(64);
    });
  });
}
