import { expect } from 'chai';
import type { DeltaDraft, ReactionsDelta } from '../lib/protocol.js';
import type { AppendOnce, AppendOptions } from '../lib/store/types.js';
import { createEvent, expectError, expectUnchanged, freshId, getEvent, startHarness, waitFor, type Harness } from './support/harness.js';
import { logOf, postStatus, reactionDeltas, sumCounts } from './support/fans.js';

describe('reactions: POST /events/:id/reactions', () => {
  let h: Harness;
  before(async () => {
    // One test client is a whole crowd here: neither limit is what these tests are about.
    h = await startHarness({ REACTION_WINDOW_MS: '1000', RATE_REACTIONS: '100000/10', RATE_ADDRESS_REACTIONS: '100000/10' });
  });
  after(async () => {
    await h.close();
  });
  const react = (id: string, body: unknown, query = '') => h.http().post(`/events/${id}/reactions${query}`).send(body as object);
  /** Closes the open window: advance the fake clock by one window and wait for the append. */
  const nextWindow = async () => {
    h.clock.advance(1000);
    await h.hub.fans.reactions.settled();
  };
  const live = async (body: Record<string, unknown> = {}) => {
    const id = freshId('react');
    await createEvent(h, id, { state: 'live', ...body });
    return id;
  };

  it('answers 202 and appends nothing until the window closes', async () => {
    const id = await live();
    const res = await react(id, { emoji: '🎉' });
    expect(res.status, res.text).to.equal(202);
    expect(res.body).to.deep.equal({ accepted: true });
    expect(await reactionDeltas(h.service.store, id)).to.have.length(0);
    await nextWindow();
    const [delta] = await reactionDeltas(h.service.store, id);
    expect(delta!.counts).to.deep.equal({ '🎉': 1 });
    expect(delta!.window.to - delta!.window.from).to.equal(1000);
  });

  it('folds 300 reactions inside one window into one delta whose counts add up to exactly 300', async () => {
    const id = await live();
    const url = `${h.url}/events/${id}/reactions`;
    const statuses = await Promise.all(Array.from({ length: 300 }, (_, i) => postStatus(url, { emoji: ['👏', '⚽', '😂'][i % 3] })));
    expect(statuses.every((s) => s === 202)).to.equal(true);
    await nextWindow();
    const deltas = await reactionDeltas(h.service.store, id);
    expect(deltas).to.have.length(1);
    expect(deltas[0]!.counts).to.deep.equal({ '👏': 100, '⚽': 100, '😂': 100 });
    expect(sumCounts(deltas)).to.equal(300);
    expect((await getEvent(h, id)).snapshot.reactions.totals).to.deep.equal({ '👏': 100, '⚽': 100, '😂': 100 });
  });

  it('keeps counts exact across window boundaries under concurrent posting, even when an append fails', async () => {
    const id = await live();
    const url = `${h.url}/events/${id}/reactions`;
    const store = h.service.store;
    // The store refuses one reactions append: that window must come back in the next one.
    const append = store.appendOnce.bind(store);
    let failures = 1;
    store.appendOnce = async (eventId: string, draft: DeltaDraft, options: AppendOptions, once: AppendOnce) => {
      if (eventId === id && draft.kind === 'reactions' && failures > 0) {
        failures -= 1;
        throw new Error('simulated store failure');
      }
      return append(eventId, draft, options, once);
    };
    try {
      let accepted = 0;
      let answered = 0;
      const all = Promise.all(
        Array.from({ length: 480 }, (_, i) =>
          postStatus(url, { emoji: i % 2 ? '🔥' : '💯' }).then((s) => {
            answered += 1;
            if (s === 202) accepted += 1;
          }),
        ),
      );
      // Close a window every 60 answers while the rest are still on their way in.
      const growth: number[] = [];
      for (let k = 1; k <= 8; k++) {
        await waitFor(() => answered >= Math.min(480, k * 60), `${k * 60} answers`);
        const before = (await logOf(store, id)).length;
        await nextWindow();
        growth.push((await logOf(store, id)).length - before);
      }
      await all;
      await nextWindow();
      await nextWindow();
      const deltas = await reactionDeltas(store, id);
      expect(accepted).to.equal(480);
      expect(sumCounts(deltas)).to.equal(accepted);
      expect(deltas.length, 'windows that appended').to.be.greaterThan(2);
      for (const grew of growth) expect(grew).to.be.at.most(1);
      expect(failures).to.equal(0);
    } finally {
      store.appendOnce = append;
    }
  });

  it('grows the log by at most one delta per window during a flood from many viewers', async () => {
    const id = await live();
    const url = `${h.url}/events/${id}/reactions`;
    let accepted = 0;
    for (let w = 0; w < 5; w++) {
      const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => postStatus(`${url}?viewer=v${i}`, { emoji: '👍' })));
      accepted += statuses.filter((s) => s === 202).length;
      const head = (await logOf(h.service.store, id)).length;
      await nextWindow();
      expect((await logOf(h.service.store, id)).length - head).to.equal(1);
    }
    expect(sumCounts(await reactionDeltas(h.service.store, id))).to.equal(accepted);
  });

  it('keeps at most 20 samples, only those with comments, with the sender identity or null', async () => {
    const id = await live();
    const alice = await h.token({ sub: 'alice' });
    await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${alice}`).send({ emoji: '🎉', comment: 'from alice' });
    await react(id, { emoji: '🎉', comment: 'from v1' }, '?viewer=v1');
    await react(id, { emoji: '🎉', comment: 'from nobody' });
    await react(id, { emoji: '🎉' });
    for (let i = 0; i < 40; i++) await react(id, { emoji: '🙂', comment: `c${i}` }, `?viewer=w${i}`);
    await nextWindow();
    const [delta] = await reactionDeltas(h.service.store, id);
    expect(sumCounts([delta!])).to.equal(44);
    expect(delta!.samples).to.have.length(20);
    for (const s of delta!.samples) expect(Object.keys(s).sort()).to.deep.equal(['comment', 'emoji', 'user', 'verified']);
    const first = await live();
    await h.http().post(`/events/${first}/reactions`).set('Authorization', `Bearer ${alice}`).send({ emoji: '🎉', comment: 'from alice' });
    await react(first, { emoji: '🎉', comment: 'from v1' }, '?viewer=v1');
    await react(first, { emoji: '🎉', comment: 'from nobody' });
    await nextWindow();
    const [small] = await reactionDeltas(h.service.store, first);
    expect(small!.samples.map((s) => s.user).sort()).to.deep.equal(['alice', 'v1', null].sort());
    expect(small!.samples.filter((s) => s.verified).map((s) => s.user)).to.deep.equal(['alice']);
  });

  it('validates emoji and comment with 400 naming the field, counting nothing', async () => {
    const id = await live();
    await expectUnchanged(h, id, async () => {
      for (const emoji of ['😀😀', 'two words', ' ', 'x'.repeat(17), '', 5, '\u0007']) {
        expectError(await react(id, { emoji }), 400, 'invalid_request', 'emoji');
      }
      expectError(await react(id, {}), 400, 'invalid_request', 'emoji');
      expectError(await react(id, { emoji: '🎉', comment: 'x'.repeat(141) }), 400, 'invalid_request', 'comment');
      expectError(await react(id, { emoji: '🎉', comment: 'a\nb' }), 400, 'invalid_request', 'comment');
      expectError(await react(id, { emoji: '🎉', mood: 'happy' }), 400, 'invalid_request', 'mood');
      await nextWindow();
    });
    for (const emoji of ['👍🏽', '🇧🇷', '1️⃣', '👨‍👩‍👧']) expect((await react(id, { emoji })).status).to.equal(202);
    // Text emoticons only where the event lists them (issue 15).
    for (const emoji of ['<3', '¯\\_(ツ)_/¯', 'x'.repeat(16)]) expectError(await react(id, { emoji }), 400, 'invalid_request', 'emoji');
    expect((await react(id, { emoji: '🎉', comment: '😀'.repeat(140) })).status).to.equal(202);
  });

  it('takes a text/plain body (no preflight) like JSON', async () => {
    const id = await live();
    const res = await h.http().post(`/events/${id}/reactions`).set('Content-Type', 'text/plain;charset=UTF-8').send('{"emoji":"👏"}');
    expect(res.status).to.equal(202);
  });

  it('refuses a private event to an anonymous sender (401) and to a token without it (403)', async () => {
    const id = await live({ visibility: 'private' });
    expectError(await react(id, { emoji: '🎉' }), 401, 'unauthorized');
    const other = await h.token({ sub: 'eve', events: ['elsewhere'] });
    expectError(await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${other}`).send({ emoji: '🎉' }), 403, 'forbidden');
    const reader = await h.token({ sub: 'rita', events: [id] });
    expect((await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${reader}`).send({ emoji: '🎉' })).status).to.equal(202);
    expect((await react(id, { emoji: '🎉' }, `?access_token=${reader}`)).status).to.equal(202);
  });

  it('answers 404 for an unknown event and 409 event_ended after the end, yet counts what came before', async () => {
    expectError(await react(freshId('missing'), { emoji: '🎉' }), 404, 'not_found');
    const id = await live();
    expect((await react(id, { emoji: '🎉' })).status).to.equal(202);
    await h.http().post(`/events/${id}/end`).set('Authorization', `Bearer ${h.adminToken}`);
    expectError(await react(id, { emoji: '🎉' }), 409, 'event_ended');
    await nextWindow();
    const deltas = await reactionDeltas(h.service.store, id);
    expect(sumCounts(deltas)).to.equal(1);
    expect((await getEvent(h, id)).snapshot.reactions.totals).to.deep.equal({ '🎉': 1 });
  });

  it('ignores Idempotency-Key (issue 15): a reaction is a count, and anonymous keys would be storage anyone can grow', async () => {
    const id = await live();
    const send = () => react(id, { emoji: '🎉' }, '?viewer=idem').set('Idempotency-Key', 'r-1');
    expect((await send()).status).to.equal(202);
    const again = await send();
    expect(again.status).to.equal(202);
    expect(again.headers['idempotent-replayed']).to.equal(undefined);
    await nextWindow();
    expect(sumCounts(await reactionDeltas(h.service.store, id))).to.equal(2);
  });
});

describe('reactions on drain', () => {
  it('appends the open window when the server drains, and refuses reactions after with 503', async () => {
    const h = await startHarness({ REACTION_WINDOW_MS: '60000' });
    try {
      const id = freshId('drain');
      await createEvent(h, id, { state: 'live' });
      for (let i = 0; i < 7; i++) expect((await h.http().post(`/events/${id}/reactions?viewer=d${i}`).send({ emoji: '🙌' })).status).to.equal(202);
      await h.hub.drain();
      const deltas: ReactionsDelta[] = await reactionDeltas(h.service.store, id);
      expect(deltas).to.have.length(1);
      expect(sumCounts(deltas)).to.equal(7);
      expect(h.hub.fans.reactions.armed).to.equal(false);
      expectError(await h.http().post(`/events/${id}/reactions`).send({ emoji: '🙌' }), 503, 'draining');
    } finally {
      await h.close();
    }
  });
});
