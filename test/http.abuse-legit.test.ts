import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { REACTION_EMOJI } from '../tools/simulator/score-feed.js';
import { CROWDS } from '../demo/fans.js';
import { createEvent, freshId, postScore, startHarness, type Harness } from './support/harness.js';

/**
 * Issue 15: nothing a legitimate fan does today is refused by the new limits, with every
 * default as shipped: reacting with the widget's and the demo's emoji, chatting with a token
 * (with an Idempotency-Key, as a client's retry would), a page with several widgets (several
 * viewers polling from one address, and one multi-event poll), and several tabs of one viewer.
 */
describe('abuse limits: legitimate fans are not refused', () => {
  let h: Harness;
  before(async () => (h = await startHarness()));
  after(() => h.close());

  it("takes every emoji the widget, the demo fans and the simulator send", async () => {
    const id = freshId('legit-emoji');
    await createEvent(h, id, { state: 'live' });
    const widget = /DEFAULT_REACTIONS = (\[[^\]]*\])/.exec(readFileSync('public/widget.js', 'utf8'))![1]!;
    const defaults = JSON.parse(widget.replace(/'/g, '"')) as string[];
    const icons = Object.keys(JSON.parse(/EMOJI_ICONS = (\{[^}]*\})/.exec(readFileSync('public/widget.js', 'utf8'))![1]!.replace(/'/g, '"')) as object);
    const demo = Object.values(CROWDS).flatMap((crowd) => Object.values(crowd.emoji).flat());
    const all = [...new Set([...defaults, ...icons, ...demo, ...REACTION_EMOJI])];
    expect(all.length).to.be.above(5);
    for (const [i, emoji] of all.entries()) {
      // Everyone here is one address: anonymous senders behind it share 8 new emoji per window
      // (REACTION_NEW_PER_IDENTITY), so a new window every 8, as fans' taps spread over seconds.
      if (i % 8 === 0) await h.hub.fans.reactions.flush();
      const res = await h.http().post(`/events/${id}/reactions?viewer=fan-${i}`).send({ emoji });
      expect(res.status, `${emoji} ${res.text}`).to.equal(202);
    }
  });

  it('lets a signed-in fan chat, with an Idempotency-Key on each message', async () => {
    const id = freshId('legit-chat');
    await createEvent(h, id, { state: 'live' });
    const fan = await h.token({ sub: 'legit-fan', name: 'Fan' });
    for (let i = 0; i < 5; i++) {
      const res = await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${fan}`).set('Idempotency-Key', `m-${i}`).send({ text: `message ${i}` });
      expect(res.status, res.text).to.equal(201);
    }
  });

  it('serves a page of several widgets and several tabs from one address', async () => {
    const ids = [freshId('legit-a'), freshId('legit-b'), freshId('legit-c')];
    for (const id of ids) await createEvent(h, id, { state: 'live' });
    // Each widget joins with its own viewer id; two tabs share one.
    for (const [i, id] of ids.entries()) {
      expect((await h.http().get(`/events/${id}/poll?viewer=w${i}`)).status).to.equal(200);
      expect((await h.http().get(`/events/${id}/poll?viewer=tab`)).status).to.equal(200);
      expect((await h.http().get(`/events/${id}/poll?viewer=tab`)).status).to.equal(200);
    }
    const multi = await h.http().get(`/poll?subs=${ids.join(',')}&viewer=page`);
    expect(multi.status).to.equal(200);
    expect(multi.body.results.map((r: { status?: number }) => r.status ?? 200)).to.deep.equal([200, 200, 200]);
    await postScore(h, ids[0]!, { data: { home: 1 } });
    for (let i = 0; i < 3; i++) expect((await h.http().get('/events')).status).to.equal(200);
  });
});
