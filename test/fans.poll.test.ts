import { expect } from 'chai';
import { seqOf } from './support/cursors.js';
import type { Response } from 'supertest';
import type { ChatDelta, MultiPollAnswer, PollAnswer, ReactionsDelta } from '../lib/protocol.js';
import { createEvent, freshId, postNotice, postScore, startHarness, waitFor, type Harness } from './support/harness.js';

describe('fans reading: filters on single and multi-event polls, reactions, sendBeacon', () => {
  let h: Harness;
  let alice: string;
  before(async () => {
    h = await startHarness({ HOLD_TIMEOUT_MS: '20000', RATE_CHAT: '1000/10' });
    alice = await h.token({ sub: 'alice', name: 'Alice' });
  });
  after(async () => {
    await h.close();
  });
  afterEach(async () => {
    h.clock.advance(60_000);
    await waitFor(() => h.hub.heldPolls === 0, 'leftover holds to end');
  });

  const say = (id: string, text: string) =>
    h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${alice}`).send({ text }).expect(201);
  /** Starts a request that stays held; `settled()` tells whether it has been answered. */
  function hold(start: PromiseLike<Response>) {
    let settled = false;
    const answer = Promise.resolve(start).then((res) => ((settled = true), res));
    return { answer, settled: () => settled };
  }
  /** Lets every in-flight wake run, then checks that the hold is still held. */
  async function stillHeld(held: { settled: () => boolean }): Promise<void> {
    await new Promise((r) => setTimeout(r, 30));
    expect(held.settled(), 'the poll was woken by a delta it filters out').to.equal(false);
    expect(h.hub.heldPolls).to.equal(1);
  }
  const heldOne = () => waitFor(() => h.hub.heldPolls === 1, 'the poll to be held');

  it('wakes a multi-event poll on the second event when a chat message arrives there', async () => {
    const a = freshId('a');
    const b = freshId('b');
    const { cursor: ca } = await createEvent(h, a, { state: 'live' });
    const { cursor: cb } = await createEvent(h, b, { state: 'live' });
    const held = hold(h.http().get(`/poll?subs=${a}@${ca},${b}@${cb}&kinds=chat`));
    await heldOne();
    await postScore(h, a, { data: { home: 1 } });
    await stillHeld(held);
    await say(b, 'hello from b');
    const { results } = (await held.answer).body as MultiPollAnswer;
    const [ra, rb] = results as [PollAnswer, PollAnswer];
    expect(ra.deltas).to.deep.equal([]);
    expect(seqOf(ra.cursor)).to.equal(1);
    expect(rb.deltas.map((d) => (d as ChatDelta).text)).to.deep.equal(['hello from b']);
  });

  it('combines types with kinds on a single poll: only goal scores and chat wake it', async () => {
    const id = freshId('single');
    const { cursor } = await createEvent(h, id, { state: 'live' });
    const url = (c: string) => `/events/${id}/poll?cursor=${c}&kinds=score,chat&types=goal`;
    const first = hold(h.http().get(url(cursor)));
    await heldOne();
    await postScore(h, id, { type: 'corner', data: { c: 1 } });
    await postNotice(h, id, { type: 'goal', title: 'GOAL' });
    await stillHeld(first);
    await say(id, 'wow');
    const one = (await first.answer).body as PollAnswer;
    expect(one.deltas.map((d) => d.kind)).to.deep.equal(['chat']);
    expect(seqOf(one.cursor)).to.equal(3);
    const second = hold(h.http().get(url(one.cursor)));
    await heldOne();
    await postScore(h, id, { type: 'goal', data: { g: 1 } });
    const two = (await second.answer).body as PollAnswer;
    expect(two.deltas.map((d) => [d.kind, (d as { type?: string }).type])).to.deep.equal([['score', 'goal']]);
  });

  it('combines types with kinds on GET and POST multi-event polls', async () => {
    const a = freshId('a');
    const b = freshId('b');
    const { cursor: ca } = await createEvent(h, a, { state: 'live' });
    const { cursor: cb } = await createEvent(h, b, { state: 'live' });
    const held = hold(h.http().get(`/poll?subs=${a}@${ca},${b}@${cb}&kinds=notice,chat&types=goal`));
    await heldOne();
    await postNotice(h, a, { type: 'card', title: 'yellow' });
    await postScore(h, b, { type: 'goal', data: { g: 1 } });
    await stillHeld(held);
    await postNotice(h, b, { type: 'goal', title: 'GOAL' });
    const [ra, rb] = ((await held.answer).body as MultiPollAnswer).results as [PollAnswer, PollAnswer];
    expect(ra.deltas).to.deep.equal([]);
    expect(seqOf(ra.cursor)).to.equal(1);
    expect(rb.deltas.map((d) => d.kind)).to.deep.equal(['notice']);
    expect(seqOf(rb.cursor)).to.equal(2);

    const posted = hold(h.http().post(`/poll?kinds=notice,chat&types=goal`).send({ subs: { [a]: ra.cursor, [b]: rb.cursor } }));
    await heldOne();
    await postNotice(h, b, { type: 'card', title: 'red' });
    await stillHeld(posted);
    await say(a, 'chat passes any types filter');
    const [pa, pb] = ((await posted.answer).body as MultiPollAnswer).results as [PollAnswer, PollAnswer];
    expect(pa.deltas.map((d) => d.kind)).to.deep.equal(['chat']);
    expect(pb.deltas).to.deep.equal([]);
  });

  it('wakes a kinds=reactions poll once per window with the aggregate, not per reaction', async () => {
    const id = freshId('react');
    const { cursor } = await createEvent(h, id, { state: 'live' });
    const held = hold(h.http().get(`/events/${id}/poll?cursor=${cursor}&kinds=reactions`));
    await heldOne();
    for (let i = 0; i < 5; i++) await h.http().post(`/events/${id}/reactions?viewer=r${i}`).send({ emoji: '👏' }).expect(202);
    await stillHeld(held);
    h.clock.advance(1000);
    const answer = (await held.answer).body as PollAnswer;
    expect(answer.deltas).to.have.length(1);
    expect((answer.deltas[0] as ReactionsDelta).counts).to.deep.equal({ '👏': 5 });
  });

  it('lets navigator.sendBeacon leave with a text/plain body and ?viewer=', async () => {
    const id = freshId('beacon');
    await createEvent(h, id);
    const viewers = async () => (await h.http().get(`/events/${id}/presence`)).body.viewers as number;
    await h.http().post(`/events/${id}/join?viewer=b1`).expect(200);
    await h.http().post(`/events/${id}/join?viewer=b2`).expect(200);
    expect(await viewers()).to.equal(2);
    const byQuery = await h.http().post(`/events/${id}/leave?viewer=b1`).set('Content-Type', 'text/plain;charset=UTF-8').send('');
    expect(byQuery.status).to.equal(204);
    expect(await viewers()).to.equal(1);
    const byBody = await h.http().post(`/events/${id}/leave`).set('Content-Type', 'text/plain;charset=UTF-8').send('{"id":"b2"}');
    expect(byBody.status).to.equal(204);
    expect(await viewers()).to.equal(0);
  });
});
