import { expect } from 'chai';
import type { ChatDelta, PollAnswer } from '../lib/protocol.js';
import { createEvent, expectError, expectUnchanged, freshId, getEvent, startHarness, type Harness } from './support/harness.js';
import { logOf } from './support/fans.js';

describe('chat: POST /events/:id/chat and DELETE /events/:id/chat/:msgId', () => {
  let h: Harness;
  let alice: string;
  before(async () => {
    h = await startHarness({ CHAT_HISTORY: '3', RATE_CHAT: '1000/10' });
    alice = await h.token({ sub: 'alice', name: 'Alice' });
  });
  after(async () => {
    await h.close();
  });
  const chat = (id: string, body: unknown, token: string | null = alice) => {
    const req = h.http().post(`/events/${id}/chat`);
    if (token) req.set('Authorization', `Bearer ${token}`);
    return req.send(body as object);
  };

  it('answers 201 {seq, id} and appends a chat delta with the server-made id and the token user', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    const res = await chat(id, { text: '  what a goal!  ' });
    expect(res.status, res.text).to.equal(201);
    expect(Object.keys(res.body)).to.deep.equal(['seq', 'id']);
    expect(res.body.id).to.match(/^[A-Za-z0-9_-]{1,64}$/);
    const delta = (await logOf(h.service.store, id)).at(-1) as ChatDelta;
    expect(delta).to.deep.include({ kind: 'chat', seq: res.body.seq, id: res.body.id, text: 'what a goal!', user: { id: 'alice', name: 'Alice' } });
    const second = await chat(id, { text: 'again' });
    expect(second.body.id).to.not.equal(res.body.id);
  });

  it('leaves out user.name when the token has no name claim', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    const bob = await h.token({ sub: 'bob' });
    await chat(id, { text: 'hi' }, bob);
    expect(((await logOf(h.service.store, id)).at(-1) as ChatDelta).user).to.deep.equal({ id: 'bob' });
  });

  it('refuses an anonymous chat with 401 and a token without sub with 403', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    await expectUnchanged(h, id, async () => {
      const anon = await chat(id, { text: 'hi' }, null);
      expectError(anon, 401, 'unauthorized');
      expect(anon.headers['www-authenticate']).to.match(/^Bearer/);
      expectError(await chat(id, { text: 'hi' }, await h.token({ name: 'nobody' })), 403, 'forbidden');
    });
  });

  it('validates text: trimmed, 1–500 code points, no control characters, 400 naming text', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    await expectUnchanged(h, id, async () => {
      for (const text of ['', '   ', '😀'.repeat(501), 'x'.repeat(501), 'line\nbreak', 'bell\u0007', 'c1\u0085', 7]) {
        expectError(await chat(id, { text }), 400, 'invalid_request', 'text');
      }
      expectError(await chat(id, {}), 400, 'invalid_request', 'text');
      expectError(await chat(id, { text: 'hi', extra: 1 }), 400, 'invalid_request', 'extra');
    });
    expect((await chat(id, { text: '😀'.repeat(500) })).status).to.equal(201);
    expect((await chat(id, { text: ` ${'x'.repeat(500)}\n` })).status).to.equal(201);
  });

  it('keeps the last CHAT_HISTORY messages in the snapshot, oldest first', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    for (let i = 1; i <= 5; i++) expect((await chat(id, { text: `m${i}` })).status).to.equal(201);
    const { snapshot } = await getEvent(h, id);
    expect(snapshot.chat.map((m) => m.text)).to.deep.equal(['m3', 'm4', 'm5']);
    expect(snapshot.chat[0]!.user).to.deep.equal({ id: 'alice', name: 'Alice' });
  });

  it('lets only readers of a private event chat', async () => {
    const id = freshId('private');
    await createEvent(h, id, { state: 'live', visibility: 'private' });
    expectError(await chat(id, { text: 'hi' }), 403, 'forbidden');
    const reader = await h.token({ sub: 'carol', events: [id] });
    expect((await chat(id, { text: 'hi' }, reader)).status).to.equal(201);
  });

  it('refuses a token whose events claim does not list the event, even a public one (403)', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    const limited = await h.token({ sub: 'dana', events: ['another-event'] });
    expectError(await chat(id, { text: 'hi' }, limited), 403, 'forbidden');
    expectError(await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${limited}`).send({ emoji: '👍' }), 403, 'forbidden');
    expect((await chat(id, { text: 'hi' }, await h.token({ sub: 'dana', events: [id] }))).status).to.equal(201);
  });

  it('answers 404 for an unknown event and 409 event_ended once it has ended', async () => {
    expectError(await chat(freshId('missing'), { text: 'hi' }), 404, 'not_found');
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    await h.http().post(`/events/${id}/end`).set('Authorization', `Bearer ${h.adminToken}`);
    expectError(await chat(id, { text: 'hi' }), 409, 'event_ended');
  });

  it('honours Idempotency-Key: a repeat replays {seq, id} and appends nothing', async () => {
    const id = freshId('chat');
    await createEvent(h, id, { state: 'live' });
    const first = await chat(id, { text: 'once' }).set('Idempotency-Key', 'k-1');
    const again = await chat(id, { text: 'once' }).set('Idempotency-Key', 'k-1');
    expect(again.status).to.equal(201);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.body).to.deep.equal(first.body);
    expect((await logOf(h.service.store, id)).filter((d) => d.kind === 'chat')).to.have.length(1);
    expectError(await chat(id, { text: 'other' }).set('Idempotency-Key', 'k-1'), 409, 'idempotency_conflict');
  });

  describe('DELETE /events/:id/chat/:msgId', () => {
    const del = (id: string, msg: string, token: string | null) => {
      const req = h.http().delete(`/events/${id}/chat/${msg}`);
      return token ? req.set('Authorization', `Bearer ${token}`) : req;
    };

    it('lets an admin delete a message: 204, a chat delete delta, gone from the snapshot and from polls', async () => {
      const id = freshId('chat');
      const { cursor } = await createEvent(h, id, { state: 'live' });
      const kept = await chat(id, { text: 'keep me' });
      const gone = await chat(id, { text: 'rude' });
      const res = await del(id, gone.body.id, h.adminToken);
      expect(res.status).to.equal(204);
      const last = (await logOf(h.service.store, id)).at(-1);
      expect(last).to.deep.include({ kind: 'chat', op: 'delete', id: gone.body.id });
      expect(Object.keys(last!).sort()).to.deep.equal(['id', 'kind', 'op', 'seq', 'ts']);
      expect((await getEvent(h, id)).snapshot.chat.map((m) => m.id)).to.deep.equal([kept.body.id]);
      const polled = (await h.http().get(`/events/${id}/poll?cursor=${cursor}&kinds=chat`)).body as PollAnswer;
      expect(polled.deltas.map((d) => (d as ChatDelta).op ?? 'say')).to.deep.equal(['say', 'say', 'delete']);
    });

    it('refuses a non-admin with 403 and an anonymous caller with 401, changing nothing', async () => {
      const id = freshId('chat');
      await createEvent(h, id, { state: 'live' });
      const msg = (await chat(id, { text: 'hello' })).body.id as string;
      await expectUnchanged(h, id, async () => {
        expectError(await del(id, msg, alice), 403, 'forbidden');
        expectError(await del(id, msg, await h.token({ sub: 'pub', scope: 'publish' })), 403, 'forbidden');
        expectError(await del(id, msg, null), 401, 'unauthorized');
      });
    });

    it('answers 404 for a message not in the snapshot (unknown, already deleted, or rolled out of history)', async () => {
      const id = freshId('chat');
      await createEvent(h, id, { state: 'live' });
      const old = (await chat(id, { text: 'first' })).body.id as string;
      for (let i = 0; i < 3; i++) await chat(id, { text: `later ${i}` });
      await expectUnchanged(h, id, async () => {
        expectError(await del(id, old, h.adminToken), 404, 'not_found');
        expectError(await del(id, 'nosuchmessage', h.adminToken), 404, 'not_found');
        expectError(await del(freshId('missing'), 'x', h.adminToken), 404, 'not_found');
        expectError(await del(id, 'bad%20id', h.adminToken), 400, 'invalid_request', 'msgId');
      });
      const recent = (await getEvent(h, id)).snapshot.chat[2]!.id;
      expect((await del(id, recent, h.adminToken)).status).to.equal(204);
      expectError(await del(id, recent, h.adminToken), 404, 'not_found');
    });

    it('still lets an admin delete a message after the event has ended', async () => {
      const id = freshId('chat');
      await createEvent(h, id, { state: 'live' });
      const msg = (await chat(id, { text: 'late regret' })).body.id as string;
      await h.http().post(`/events/${id}/end`).set('Authorization', `Bearer ${h.adminToken}`);
      expect((await del(id, msg, h.adminToken)).status).to.equal(204);
      expect((await getEvent(h, id)).snapshot.chat).to.deep.equal([]);
    });
  });
});
