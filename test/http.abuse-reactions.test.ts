import { expect } from 'chai';
import { createEvent, freshId, getEvent, startHarness, type Harness } from './support/harness.js';

/** Issue 15, finding 2: what a reaction may be, and how much of every snapshot it may take. */
describe('abuse: reactions are bounded', () => {
  let h: Harness;
  before(async () => (h = await startHarness({ REACTION_TOTALS_MAX: '3', RATE_ADDRESS_REACTIONS: '100000/10', RATE_REACTIONS: '100000/10' })));
  after(() => h.close());
  const react = (id: string, emoji: string, token?: string) => {
    const req = h.http().post(`/events/${id}/reactions`);
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send({ emoji });
  };

  it('takes real emoji, and text emoticons only from the event\'s own meta.emoticons', async () => {
    const id = freshId('emo');
    await createEvent(h, id, { state: 'live' });
    for (const made of ['zz-1', ':)', 'aaaaaaaaaaaaaaaa', '😀\u200d😀\u200d😀']) {
      const res = await react(id, made);
      expect(res.status, made).to.equal(400);
      expect(res.body.error.field).to.equal('emoji');
    }
    for (const emoji of ['👏', '❤️', '❤', '🇫🇷', '👍🏽', '1️⃣']) expect((await react(id, emoji)).status, emoji).to.equal(202);
    const listed = freshId('emo-listed');
    await createEvent(h, listed, { state: 'live', meta: { emoticons: ['gg', '+1'] } });
    expect((await react(listed, 'gg')).status).to.equal(202);
    expect((await react(listed, 'wp')).status).to.equal(400);
    const bad = await h.http().put(`/events/${freshId('emo-bad')}`).set('Authorization', `Bearer ${h.adminToken}`).send({ meta: { emoticons: ['ok', 'has space'] } });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('meta.emoticons');
  });

  it('keeps the top REACTION_TOTALS_MAX totals in the snapshot and sums the rest into other', async () => {
    const id = freshId('totals');
    await createEvent(h, id, { state: 'live' });
    const counts: Array<[string, number]> = [['🔥', 5], ['👏', 4], ['😱', 3], ['😂', 2], ['🎉', 1]];
    for (const [emoji, n] of counts) for (let i = 0; i < n; i++) expect((await react(id, emoji)).status).to.equal(202);
    await h.hub.fans.reactions.flush();
    const { reactions } = (await getEvent(h, id)).snapshot;
    expect(reactions.totals).to.deep.equal({ '🔥': 5, '👏': 4, '😱': 3 });
    expect(reactions.other).to.equal(3);
  });

  it("gives each sender its own share of a window's new emoji: one cannot take every slot", async () => {
    const id = freshId('share');
    await createEvent(h, id, { state: 'live' });
    const flooder = await h.token({ sub: 'flooder' });
    const fan = await h.token({ sub: 'real-fan' });
    const palette = ['😀', '😃', '😄', '😁', '😆', '😅', '🤣', '🙂', '🙃'];
    const statuses = [];
    for (const emoji of palette) statuses.push((await react(id, emoji, flooder)).status);
    expect(statuses.slice(0, 8)).to.deep.equal(new Array(8).fill(202));
    const refused = await react(id, palette[8]!, flooder);
    expect(refused.status).to.equal(429);
    expect(refused.body.error.code).to.equal('rate_limited');
    expect(Number(refused.headers['retry-after'])).to.be.at.least(1);
    // A fan's own new emoji, and any emoji already in the window, still go through.
    expect((await react(id, '👏', fan)).status).to.equal(202);
    expect((await react(id, '😀', flooder)).status).to.equal(202);
  });
});
