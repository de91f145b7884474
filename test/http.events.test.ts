import { expect } from 'chai';
import { cursorAt, epochOf } from './support/cursors.js';
import type { PollAnswer } from '../lib/protocol.js';
import {
  createEvent,
  expectError,
  expectUnchanged,
  freshId,
  getEvent,
  poll,
  postNotice,
  postScore,
  startHarness,
  waitFor,
  type Harness,
} from './support/harness.js';

describe('the event resource over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });
  const admin = () => `Bearer ${h.adminToken}`;

  /** The deltas after a cursor, read with a poll that does not hold. */
  async function deltasAfter(id: string, cursor: string): Promise<PollAnswer> {
    const res = await poll(h, id, `cursor=${cursor}&timeout=0`);
    expect(res.status).to.equal(200);
    return res.body;
  }

  describe('PUT /events/:eventId', () => {
    it('creates the event with 201 and answers it with an empty snapshot', async () => {
      const id = freshId();
      const res = await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ title: 'Final', sport: 'football' });
      expect(res.status).to.equal(201);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.include({ id, state: 'scheduled', viewers: 0 });
      expect(res.body.meta).to.deep.equal({ title: 'Final', sport: 'football', visibility: 'public' });
      expect(res.body.cursor).to.match(/^[a-z0-9]{1,16}-0\.00000000$/);
      expect(res.body.snapshot).to.deep.equal({
        seq: 0,
        meta: { title: 'Final', sport: 'football', visibility: 'public' },
        state: 'scheduled',
        score: {},
        chat: [],
        reactions: { totals: {} },
      });
    });

    it('updates with 200 and appends a status delta when the state changes', async () => {
      const id = freshId();
      const created = await createEvent(h, id, { title: 'Final' });
      const res = await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ state: 'live' });
      expect(res.status).to.equal(200);
      expect(res.body.state).to.equal('live');
      expect(res.body.snapshot.state).to.equal('live');
      const answer = await deltasAfter(id, created.cursor);
      expect(answer.deltas).to.have.length(1);
      expect(answer.deltas[0]).to.include({ seq: 1, kind: 'status' });
      expect((answer.deltas[0] as { data: { state: string } }).data.state).to.equal('live');
    });

    it('appends a status delta carrying the new meta when only the meta changes', async () => {
      const id = freshId();
      const created = await createEvent(h, id, { title: 'Final' });
      const res = await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ title: 'The Final', meta: { venue: 'Lord’s' } });
      expect(res.status).to.equal(200);
      expect(res.body.meta).to.deep.equal({ venue: 'Lord’s', title: 'The Final', sport: 'other', visibility: 'public' });
      const answer = await deltasAfter(id, created.cursor);
      expect(answer.deltas.map((d) => d.kind)).to.deep.equal(['status']);
      expect((answer.deltas[0] as { data: { meta: unknown } }).data.meta).to.deep.equal(res.body.meta);
      expect((await getEvent(h, id)).snapshot.meta).to.deep.equal(res.body.meta);
    });

    it('appends nothing when the same description is PUT again', async () => {
      const id = freshId();
      const created = await createEvent(h, id, { title: 'Final', sport: 'chess', state: 'live' });
      const res = await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ title: 'Final', sport: 'chess', state: 'live' });
      expect(res.status).to.equal(200);
      expect(res.body.cursor).to.equal(created.cursor);
      expect((await deltasAfter(id, created.cursor)).deltas).to.deep.equal([]);
    });

    it('refuses a change to an ended event with 409 event_ended', async () => {
      const id = freshId();
      await createEvent(h, id, { title: 'Final' });
      await h.http().post(`/events/${id}/end`).set('Authorization', admin()).expect(200);
      await expectUnchanged(h, id, async () => {
        const res = await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ title: 'Replay', state: 'live' });
        expectError(res, 409, 'event_ended');
      });
    });

    it('refuses a body with a bad field naming it', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ visibility: 'secret' }), 400, 'invalid_request', 'visibility');
        expectError(await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ colour: 'red' }), 400, 'invalid_request', 'colour');
        expectError(await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ state: 'paused' }), 400, 'invalid_request', 'state');
      });
    });

    it('refuses meta above 4096 bytes serialised, counting bytes, not characters', async () => {
      const id = freshId();
      await createEvent(h, id);
      const put = (meta: object) => h.http().put(`/events/${id}`).set('Authorization', admin()).send({ meta });
      await expectUnchanged(h, id, async () => {
        expectError(await put({ note: 'x'.repeat(4096) }), 400, 'invalid_request', 'meta');
        // 2,100 characters, 4,200 bytes in UTF-8.
        expectError(await put({ note: 'é'.repeat(2100) }), 400, 'invalid_request', 'meta');
      });
      expect((await put({ note: 'é'.repeat(2000) })).status).to.equal(200);
    });
  });

  describe('POST /events/:eventId/scores', () => {
    it('sets the whole score and answers 201 with seq and cursor', async () => {
      const id = freshId();
      const created = await createEvent(h, id, { sport: 'football' });
      const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ type: 'goal', data: { home: 1, away: 0 } });
      expect(res.status).to.equal(201);
      expect(res.body.seq).to.equal(1);
      expect(res.body.cursor).to.match(cursorAt(epochOf(created.cursor), 1));
      expect(Object.keys(res.body)).to.deep.equal(['seq', 'cursor']);
      expect((await getEvent(h, id)).snapshot.score).to.deep.equal({ home: 1, away: 0 });
      const [delta] = (await deltasAfter(id, created.cursor)).deltas;
      expect(delta).to.include({ seq: 1, kind: 'score', op: 'set', type: 'goal' });
      expect(delta).to.have.property('ts').that.is.a('number');
    });

    it('merges a patch as RFC 7396 says: nested objects merge and null deletes', async () => {
      const id = freshId();
      await createEvent(h, id, { sport: 'cricket' });
      await postScore(h, id, { data: { runs: 10, wickets: 1, batters: { a: 4, b: 6 }, extras: { wides: 1 } } });
      await postScore(h, id, { op: 'patch', data: { runs: 14, batters: { a: 8, c: 0 }, extras: null, overs: [1, 2] } });
      expect((await getEvent(h, id)).snapshot.score).to.deep.equal({ runs: 14, wickets: 1, batters: { a: 8, b: 6, c: 0 }, overs: [1, 2] });
      await postScore(h, id, { op: 'patch', data: { batters: { b: null }, overs: [3] } });
      expect((await getEvent(h, id)).snapshot.score).to.deep.equal({ runs: 14, wickets: 1, batters: { a: 8, c: 0 }, overs: [3] });
    });

    it('accepts a growing version and refuses one that does not grow with 409 stale_version', async () => {
      const id = freshId();
      await createEvent(h, id);
      await postScore(h, id, { version: 1, data: { n: 1 } });
      await postScore(h, id, { version: 5, data: { n: 5 } });
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ version: 5, data: { n: 55 } }), 409, 'stale_version');
        expectError(await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ version: 2, data: { n: 2 } }), 409, 'stale_version');
      });
      await postScore(h, id, { version: 6, data: { n: 6 } });
      expect((await getEvent(h, id)).snapshot.score).to.deep.equal({ n: 6 });
    });

    it('refuses bad bodies naming the field', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        const post = (body: unknown) => h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send(body as object);
        expectError(await post({ op: 'replace', data: {} }), 400, 'invalid_request', 'op');
        expectError(await post({ op: 'set' }), 400, 'invalid_request', 'data');
        expectError(await post({ data: [1, 2] }), 400, 'invalid_request', 'data');
        expectError(await post({ version: -1, data: {} }), 400, 'invalid_request', 'version');
        expectError(await post({ version: 1.5, data: {} }), 400, 'invalid_request', 'version');
        expectError(await post({ type: 'not a type', data: {} }), 400, 'invalid_request', 'type');
      });
    });

    it('answers 404 not_found for an event that does not exist', async () => {
      expectError(await h.http().post(`/events/${freshId()}/scores`).set('Authorization', admin()).send({ data: {} }), 404, 'not_found');
    });
  });

  describe('POST /events/:eventId/notices', () => {
    it('appends a notice that polls deliver with its type and data', async () => {
      const id = freshId();
      const created = await createEvent(h, id);
      const res = await h.http().post(`/events/${id}/notices`).set('Authorization', admin()).send({ type: 'red-card', title: 'Red card', body: 'No. 4 is off', level: 'important' });
      expect(res.status).to.equal(201);
      expect(res.body.seq).to.equal(1);
      const [delta] = (await deltasAfter(id, created.cursor)).deltas;
      expect(delta).to.deep.include({ seq: 1, kind: 'notice', type: 'red-card', data: { title: 'Red card', body: 'No. 4 is off', level: 'important' } });
    });

    it('puts notices and scores into one ordered log', async () => {
      const id = freshId();
      const created = await createEvent(h, id);
      await postScore(h, id, { data: { a: 1 } });
      await postNotice(h, id, { title: 'Kick-off' });
      await postScore(h, id, { op: 'patch', data: { b: 2 } });
      const answer = await deltasAfter(id, created.cursor);
      expect(answer.deltas.map((d) => [d.seq, d.kind])).to.deep.equal([[1, 'score'], [2, 'notice'], [3, 'score']]);
    });

    it('refuses a notice without a title or with a bad level', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/notices`).set('Authorization', admin()).send({ body: 'x' }), 400, 'invalid_request', 'title');
        expectError(await h.http().post(`/events/${id}/notices`).set('Authorization', admin()).send({ title: 'x', level: 'urgent' }), 400, 'invalid_request', 'level');
      });
    });
  });

  describe('POST /events/:eventId/end', () => {
    it('ends the event with 200 {seq, cursor} and refuses a second end with 409 event_ended', async () => {
      const id = freshId();
      await createEvent(h, id, { state: 'live' });
      await postScore(h, id, { data: { home: 2 } });
      const res = await h.http().post(`/events/${id}/end`).set('Authorization', admin());
      expect(res.status).to.equal(200);
      expect(res.body.seq).to.equal(2);
      expect(res.body.cursor).to.match(/-2\.[0-9a-f]{8}$/);
      const detail = await getEvent(h, id);
      expect(detail.state).to.equal('ended');
      expect(detail.snapshot.state).to.equal('ended');
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/end`).set('Authorization', admin()), 409, 'event_ended');
      });
    });

    it('refuses scores and notices after the end with 409 event_ended', async () => {
      const id = freshId();
      await createEvent(h, id);
      await h.http().post(`/events/${id}/end`).set('Authorization', admin()).expect(200);
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ data: { home: 3 } }), 409, 'event_ended');
        expectError(await h.http().post(`/events/${id}/notices`).set('Authorization', admin()).send({ title: 'late' }), 409, 'event_ended');
      });
    });

    it('refuses a body with 400', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/end`).set('Authorization', admin()).send({ reason: 'rain' }), 400, 'invalid_request', 'body');
      });
    });
  });

  describe('DELETE /events/:eventId', () => {
    it('answers 204, after which reads and polls get 404', async () => {
      const id = freshId();
      const created = await createEvent(h, id);
      const res = await h.http().delete(`/events/${id}`).set('Authorization', admin());
      expect(res.status).to.equal(204);
      expect(res.text).to.equal('');
      expectError(await h.http().get(`/events/${id}`), 404, 'not_found');
      const polled = await h.http().get(`/events/${id}/poll?cursor=${created.cursor}&timeout=0`);
      expectError(polled, 404, 'not_found');
      expectError(await h.http().get(`/events/${id}/poll`), 404, 'not_found');
    });

    it('answers a poll held on the event with 404', async () => {
      const id = freshId();
      const created = await createEvent(h, id);
      const held = h.http().get(`/events/${id}/poll?cursor=${created.cursor}`).then((r) => r);
      await waitFor(() => h.hub.heldPolls === 1, 'the poll to be held');
      await h.http().delete(`/events/${id}`).set('Authorization', admin()).expect(204);
      expectError(await held, 404, 'not_found');
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('gives a poll with a cursor from before a re-create a reset with missed null', async () => {
      const id = freshId();
      const created = await createEvent(h, id);
      const { cursor: old } = await postScore(h, id, { data: { home: 1 } });
      await h.http().delete(`/events/${id}`).set('Authorization', admin()).expect(204);
      const again = await createEvent(h, id, { title: 'Replayed' });
      expect(again.cursor.split('-')[0]).to.not.equal(created.cursor.split('-')[0]);
      await postScore(h, id, { data: { home: 7 } });
      const { status, body } = await poll(h, id, `cursor=${old}&timeout=0`);
      expect(status).to.equal(200);
      expect(body).to.include({ reset: true, missed: null });
      expect(body.deltas).to.deep.equal([]);
      expect(body.cursor).to.match(cursorAt(epochOf(again.cursor), 1));
      expect(body.snapshot?.score).to.deep.equal({ home: 7 });
      expect(body.snapshot?.meta.title).to.equal('Replayed');
    });

    it('needs the admin scope: 403 for a publisher, 401 without a token', async () => {
      const id = freshId();
      await createEvent(h, id);
      expectError(await h.http().delete(`/events/${id}`).set('Authorization', `Bearer ${h.publisherToken}`), 403, 'forbidden');
      const anonymous = await h.http().delete(`/events/${id}`);
      expectError(anonymous, 401, 'unauthorized');
      expect(anonymous.headers['www-authenticate']).to.match(/^Bearer/);
      await getEvent(h, id);
    });

    it('answers 404 for an event that does not exist', async () => {
      expectError(await h.http().delete(`/events/${freshId()}`).set('Authorization', admin()), 404, 'not_found');
    });
  });

  describe('GET /events', () => {
    it('lists events with id, meta, state and viewers, never cached', async () => {
      const id = freshId();
      await createEvent(h, id, { title: 'Listed', state: 'live' });
      const res = await h.http().get('/events');
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      const found = (res.body.events as Array<{ id: string }>).find((e) => e.id === id);
      expect(found).to.deep.equal({ id, meta: { title: 'Listed', sport: 'other', visibility: 'public' }, state: 'live', viewers: 0 });
    });

    it('shows a private event only to tokens that may read it', async () => {
      const id = freshId('private');
      await createEvent(h, id, { visibility: 'private' });
      const ids = async (auth?: string) => {
        const req = h.http().get('/events');
        const res = await (auth ? req.set('Authorization', `Bearer ${auth}`) : req);
        expect(res.status).to.equal(200);
        return (res.body.events as Array<{ id: string }>).map((e) => e.id);
      };
      expect(await ids()).to.not.include(id);
      expect(await ids(await h.token({ sub: 'fan' }))).to.not.include(id);
      expect(await ids(await h.token({ sub: 'fan', events: ['other'] }))).to.not.include(id);
      expect(await ids(await h.token({ sub: 'fan', events: [id] }))).to.include(id);
      expect(await ids(h.adminToken)).to.include(id);
    });
  });

  describe('GET /events/:eventId', () => {
    it('answers {id, meta, state, cursor, snapshot, viewers} without holding', async () => {
      const id = freshId();
      await createEvent(h, id, { title: 'Read me' });
      const { cursor } = await postScore(h, id, { data: { a: 1 } });
      const res = await h.http().get(`/events/${id}`);
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(Object.keys(res.body).sort()).to.deep.equal(['cursor', 'id', 'meta', 'snapshot', 'state', 'viewers']);
      expect(res.body).to.include({ id, cursor, state: 'scheduled', viewers: 0 });
      expect(res.body.snapshot).to.include({ seq: 1 });
      expect(res.body.snapshot.score).to.deep.equal({ a: 1 });
    });

    it('answers 404 not_found for an unknown event', async () => {
      expectError(await h.http().get(`/events/${freshId()}`), 404, 'not_found');
    });

    it('guards a private event: 401 anonymous, 403 for a token without it, 200 for a listed token', async () => {
      const id = freshId('private');
      await createEvent(h, id, { visibility: 'private' });
      const anonymous = await h.http().get(`/events/${id}`);
      expectError(anonymous, 401, 'unauthorized');
      expect(anonymous.headers['www-authenticate']).to.match(/^Bearer/);
      expectError(await h.http().get(`/events/${id}`).set('Authorization', `Bearer ${await h.token({ sub: 'fan' })}`), 403, 'forbidden');
      expectError(await h.http().get(`/events/${id}/poll`).set('Authorization', `Bearer ${await h.token({ sub: 'fan', events: ['x'] })}`), 403, 'forbidden');
      expectError(await h.http().get(`/events/${id}/poll`), 401, 'unauthorized');
      const listed = await h.token({ sub: 'fan', events: [id] });
      expect((await h.http().get(`/events/${id}`).set('Authorization', `Bearer ${listed}`)).status).to.equal(200);
      expect((await h.http().get(`/events/${id}/poll?access_token=${listed}`)).status).to.equal(200);
    });
  });

  describe('GET /events/:eventId/presence', () => {
    it('counts the viewers whose polls were seen', async () => {
      const id = freshId();
      await createEvent(h, id);
      expect((await h.http().get(`/events/${id}/presence`)).body).to.deep.equal({ viewers: 0 });
      await h.http().get(`/events/${id}/poll?viewer=ann`).expect(200);
      await h.http().get(`/events/${id}/poll?viewer=bob`).expect(200);
      await h.http().get(`/events/${id}/poll?viewer=bob`).expect(200);
      await h.http().get(`/events/${id}/poll`).expect(200);
      const res = await h.http().get(`/events/${id}/presence`);
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ viewers: 2 });
    });

    it('lists members for an admin with members=1', async () => {
      const id = freshId();
      await createEvent(h, id);
      await h.http().get(`/events/${id}/poll?viewer=zed`).expect(200);
      await h.http().get(`/events/${id}/poll?viewer=amy`).expect(200);
      const res = await h.http().get(`/events/${id}/presence?members=1`).set('Authorization', admin());
      expect(res.status).to.equal(200);
      // Claimed viewer ids are marked (issue 15): only a token's sub is a verified name.
      expect(res.body).to.deep.equal({ viewers: 2, members: ['~amy', '~zed'], next: null });
    });

    it('refuses members without admin: 403 with a token, 401 anonymous', async () => {
      const id = freshId();
      await createEvent(h, id);
      expectError(await h.http().get(`/events/${id}/presence?members=1`).set('Authorization', `Bearer ${h.publisherToken}`), 403, 'forbidden');
      const anonymous = await h.http().get(`/events/${id}/presence?members=1`);
      expectError(anonymous, 401, 'unauthorized');
      expect(anonymous.headers['www-authenticate']).to.match(/^Bearer/);
    });
  });

  describe('POST /events/:eventId/join', () => {
    it('answers the snapshot, the cursor, advice and the token’s sub as viewerId', async () => {
      const id = freshId();
      await createEvent(h, id);
      const { cursor } = await postScore(h, id, { data: { home: 1 } });
      const token = await h.token({ sub: 'sub-1' });
      const res = await h.http().post(`/events/${id}/join?viewer=param-1`).set('Authorization', `Bearer ${token}`).send({ id: 'body-1' });
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.include({ event: id, cursor, viewerId: 'sub-1', reset: false, ended: false });
      expect(res.body.deltas).to.deep.equal([]);
      expect(res.body.snapshot.score).to.deep.equal({ home: 1 });
      expect(res.body.advice).to.deep.equal({ timeoutMs: 25_000, maxTimeoutMs: 60_000, retryMs: 1000 });
      expect(res.body.viewers).to.equal(1);
    });

    it('takes the body’s id before the viewer parameter', async () => {
      const id = freshId();
      await createEvent(h, id);
      const res = await h.http().post(`/events/${id}/join?viewer=param-1`).send({ id: 'body-1' });
      expect(res.status).to.equal(200);
      expect(res.body.viewerId).to.equal('body-1');
    });

    it('takes the viewer parameter when there is no token and no body', async () => {
      const id = freshId();
      await createEvent(h, id);
      const res = await h.http().post(`/events/${id}/join?viewer=param-1`);
      expect(res.status).to.equal(200);
      expect(res.body.viewerId).to.equal('param-1');
    });

    it('makes a viewer id when none is given, and counts it', async () => {
      const id = freshId();
      await createEvent(h, id);
      const res = await h.http().post(`/events/${id}/join`);
      expect(res.status).to.equal(200);
      expect(res.body.viewerId).to.match(/^[A-Za-z0-9_-]{1,64}$/);
      const members = await h.http().get(`/events/${id}/presence?members=1`).set('Authorization', admin());
      expect(members.body.members).to.deep.equal([`~${res.body.viewerId}`]);
    });

    it('refuses a body with other fields and a bad id', async () => {
      const id = freshId();
      await createEvent(h, id);
      expectError(await h.http().post(`/events/${id}/join`).send({ name: 'x' }), 400, 'invalid_request', 'body');
      expectError(await h.http().post(`/events/${id}/join`).send({ id: 'has space' }), 400, 'invalid_request', 'id');
      expectError(await h.http().post(`/events/${freshId()}/join`), 404, 'not_found');
    });
  });

  describe('POST /events/:eventId/leave', () => {
    async function viewers(id: string): Promise<number> {
      return (await h.http().get(`/events/${id}/presence`)).body.viewers as number;
    }

    it('drops the viewer from presence at once with ?viewer= and no body', async () => {
      const id = freshId();
      await createEvent(h, id);
      await h.http().post(`/events/${id}/join?viewer=ann`).expect(200);
      await h.http().post(`/events/${id}/join?viewer=bob`).expect(200);
      expect(await viewers(id)).to.equal(2);
      const res = await h.http().post(`/events/${id}/leave?viewer=ann`);
      expect(res.status).to.equal(204);
      expect(res.text).to.equal('');
      expect(await viewers(id)).to.equal(1);
    });

    it('takes a text/plain body as navigator.sendBeacon sends it', async () => {
      const id = freshId();
      await createEvent(h, id);
      await h.http().post(`/events/${id}/join`).send({ id: 'beacon' }).expect(200);
      expect(await viewers(id)).to.equal(1);
      const res = await h.http().post(`/events/${id}/leave`).set('Content-Type', 'text/plain;charset=UTF-8').send('{"id":"beacon"}');
      expect(res.status).to.equal(204);
      expect(await viewers(id)).to.equal(0);
    });

    it('takes the token’s sub', async () => {
      const id = freshId();
      await createEvent(h, id);
      const token = await h.token({ sub: 'carol' });
      await h.http().post(`/events/${id}/join`).set('Authorization', `Bearer ${token}`).expect(200);
      expect(await viewers(id)).to.equal(1);
      await h.http().post(`/events/${id}/leave`).set('Authorization', `Bearer ${token}`).expect(204);
      expect(await viewers(id)).to.equal(0);
    });

    it('refuses a leave that names no viewer with 400', async () => {
      const id = freshId();
      await createEvent(h, id);
      expectError(await h.http().post(`/events/${id}/leave`), 400, 'invalid_request', 'id');
    });
  });
});
