import { expect } from 'chai';
import { createEvent, freshId, startHarness, type Harness } from './support/harness.js';

/** Issue 15, finding 4 (in part): a claimed viewer id never acts as a token holder. */
describe('abuse: claimed viewer ids', () => {
  let h: Harness;
  before(async () => (h = await startHarness({ RATE_ADDRESS_REACTIONS: '1000/10' })));
  after(() => h.close());

  it("cannot leave for a signed-in viewer: an anonymous leave?viewer=alice leaves alice's presence as it was", async () => {
    const id = freshId('spoof-leave');
    await createEvent(h, id, { state: 'live' });
    const alice = await h.token({ sub: 'alice', name: 'Alice' });
    await h.http().post(`/events/${id}/join`).set('Authorization', `Bearer ${alice}`).expect(200);
    expect((await h.http().post(`/events/${id}/leave?viewer=alice`)).status).to.equal(204);
    const members = await h.http().get(`/events/${id}/presence?members=1`).set('Authorization', `Bearer ${h.adminToken}`).expect(200);
    expect(members.body.viewers).to.equal(1);
    expect(members.body.members).to.deep.equal(['alice']);
  });

  it('marks claimed ids in members, and reaction samples say whose name is verified', async () => {
    const id = freshId('spoof-sample');
    await createEvent(h, id, { state: 'live' });
    await h.http().post(`/events/${id}/join?viewer=alice`).expect(200);
    const members = await h.http().get(`/events/${id}/presence?members=1`).set('Authorization', `Bearer ${h.adminToken}`).expect(200);
    expect(members.body.members).to.deep.equal(['~alice']);
    const bob = await h.token({ sub: 'bob' });
    await h.http().post(`/events/${id}/reactions?viewer=alice`).send({ emoji: '👏', comment: 'I am alice' }).expect(202);
    await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${bob}`).send({ emoji: '👏', comment: 'I am bob' }).expect(202);
    await h.hub.fans.reactions.flush();
    const poll = await h.http().get(`/events/${id}/poll`).expect(200);
    void poll;
    const { entries } = (await h.service.store.read(id, 0, 100))!;
    const samples = entries.map((e) => JSON.parse(e.json)).filter((d) => d.kind === 'reactions').flatMap((d) => d.samples);
    expect(samples).to.deep.include({ user: 'alice', verified: false, emoji: '👏', comment: 'I am alice' });
    expect(samples).to.deep.include({ user: 'bob', verified: true, emoji: '👏', comment: 'I am bob' });
  });
});
