import { expect } from 'chai';
import request from 'supertest';
import { startTestServer, type TestServer } from './support/server.js';

/** Waits (bounded, by polling state) until cond holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting until ${what}`);
}

describe('private events', () => {
  let server: TestServer;
  const tokens: Record<string, string | null> = { anonymous: null };
  const as = (who: string, req: request.Test): request.Test => {
    const token = tokens[who];
    return token ? req.set('Authorization', `Bearer ${token}`) : req;
  };
  const put = (id: string, body: object) => as('admin', request(server.url).put(`/events/${id}`)).send(body);

  before(async () => {
    server = await startTestServer();
    tokens['admin'] = server.adminToken;
    tokens['reader'] = await server.token({ sub: 'r1', events: ['priv1'] });
    tokens['plain'] = await server.token({ sub: 'r2' });
    tokens['limitedPublisher'] = await server.token({ sub: 'p1', scope: 'publish', events: ['priv1'] });
    tokens['publisher'] = await server.token({ sub: 'p2', scope: 'publish' });
    tokens['limitedAdmin'] = await server.token({ sub: 'a2', scope: 'admin', events: ['priv1'] });
    await put('pub1', { title: 'Public' }).expect(201);
    await put('priv1', { title: 'Secret one', visibility: 'private' }).expect(201);
    await put('priv2', { title: 'Secret two', visibility: 'private' }).expect(201);
  });
  after(() => server.close());

  describe('GET /events', () => {
    for (const [who, ids] of [
      ['anonymous', ['pub1']],
      ['plain', ['pub1']],
      ['publisher', ['pub1']],
      ['reader', ['pub1', 'priv1']],
      ['admin', ['pub1', 'priv1', 'priv2']],
    ] as const) {
      it(`lists ${ids.join(', ')} for ${who}`, async () => {
        const res = await as(who, request(server.url).get('/events')).expect(200);
        expect(res.body.events.map((e: { id: string }) => e.id).filter((id: string) => /^p(ub|riv)\d$/.test(id))).to.deep.equal(ids);
      });
    }
  });

  describe('reading one private event', () => {
    const reads: Array<[string, (id: string) => request.Test]> = [
      ['GET /events/:id', (id) => request(server.url).get(`/events/${id}`)],
      ['GET /events/:id/poll', (id) => request(server.url).get(`/events/${id}/poll`)],
      ['GET /events/:id/poll with a cursor', (id) => request(server.url).get(`/events/${id}/poll`).query({ cursor: 'a-0', timeout: 0 })],
      ['POST /events/:id/join', (id) => request(server.url).post(`/events/${id}/join`)],
      ['POST /events/:id/leave', (id) => request(server.url).post(`/events/${id}/leave`).query({ viewer: 'v1' })],
      ['GET /events/:id/presence', (id) => request(server.url).get(`/events/${id}/presence`)],
    ];
    for (const [route, make] of reads) {
      it(`${route}: 401 anonymous, 403 without the event in the token, allowed with it or with admin`, async () => {
        const anon = await make('priv1').expect(401);
        expect(anon.body.error.code).to.equal('unauthorized');
        expect(anon.headers['www-authenticate']).to.equal('Bearer realm="holdline"');
        expect((await as('plain', make('priv1')).expect(403)).body.error.code).to.equal('forbidden');
        expect((await as('publisher', make('priv1')).expect(403)).body.error.code).to.equal('forbidden');
        expect((await as('reader', make('priv2')).expect(403)).body.error.code).to.equal('forbidden');
        expect((await as('reader', make('priv1'))).status).to.be.oneOf([200, 204]);
        expect((await as('admin', make('priv2'))).status).to.be.oneOf([200, 204]);
        expect((await make('pub1')).status).to.be.oneOf([200, 204]);
      });
    }

    it('lists presence members only for admins', async () => {
      expect((await as('reader', request(server.url).get('/events/priv1/presence').query({ members: 1 })).expect(403)).body.error.code).to.equal('forbidden');
      expect((await request(server.url).get('/events/pub1/presence').query({ members: 1 }).expect(401)).body.error.code).to.equal('unauthorized');
      await as('admin', request(server.url).get('/events/priv1/presence').query({ members: 1 })).expect(200);
    });
  });

  describe('multi-event polls', () => {
    for (const method of ['GET', 'POST'] as const) {
      it(`${method} /poll reports 401 or 403 per private entry and answers at once`, async () => {
        const send = (who: string) =>
          method === 'GET'
            ? as(who, request(server.url).get('/poll').query({ subs: 'pub1,priv1,priv2' }))
            : as(who, request(server.url).post('/poll')).send({ subs: { pub1: null, priv1: null, priv2: null } });
        const statuses = async (who: string) =>
          (await send(who).expect(200)).body.results.map((r: { status?: number; error?: { code: string }; snapshot?: unknown }) =>
            r.error ? `${r.status} ${r.error.code}` : r.snapshot ? 'snapshot' : 'answer',
          );
        expect(await statuses('anonymous')).to.deep.equal(['snapshot', '401 unauthorized', '401 unauthorized']);
        expect(await statuses('plain')).to.deep.equal(['snapshot', '403 forbidden', '403 forbidden']);
        expect(await statuses('reader')).to.deep.equal(['snapshot', 'snapshot', '403 forbidden']);
        expect(await statuses('admin')).to.deep.equal(['snapshot', 'snapshot', 'snapshot']);
      });
    }

    it('never leaks a private snapshot into a refused entry', async () => {
      const res = await request(server.url).get('/poll').query({ subs: 'priv1,priv2' }).expect(200);
      expect(res.text).to.not.include('Secret');
    });
  });

  describe('publishers', () => {
    it('are limited to the events of their token when it lists some', async () => {
      await as('limitedPublisher', request(server.url).post('/events/priv1/notices')).send({ title: 'ok' }).expect(201);
      expect((await as('limitedPublisher', request(server.url).post('/events/pub1/notices')).send({ title: 'no' }).expect(403)).body.error.code).to.equal('forbidden');
      await as('limitedPublisher', request(server.url).put('/events/new-elsewhere')).send({ title: 'no' }).expect(403);
      await as('limitedPublisher', request(server.url).post('/events/pub1/end')).expect(403);
      expect((await request(server.url).get('/events/new-elsewhere').expect(404)).body.error.code).to.equal('not_found');
    });

    it('need the publish scope at all', async () => {
      await as('reader', request(server.url).post('/events/priv1/notices')).send({ title: 'no' }).expect(403);
      await request(server.url).post('/events/pub1/notices').send({ title: 'no' }).expect(401);
    });

    it('cannot delete: that takes admin, itself limited by the token events', async () => {
      await as('publisher', request(server.url).delete('/events/pub1')).expect(403);
      await as('limitedAdmin', request(server.url).delete('/events/priv2')).expect(403);
    });
  });

  describe('an admin token with an events claim', () => {
    it('reads the private events it lists and no others, and lists members only there', async () => {
      await as('limitedAdmin', request(server.url).get('/events/priv1')).expect(200);
      expect((await as('limitedAdmin', request(server.url).get('/events/priv2')).expect(403)).body.error.code).to.equal('forbidden');
      const listed = (await as('limitedAdmin', request(server.url).get('/events')).expect(200)).body.events.map((e: { id: string }) => e.id);
      expect(listed).to.include('priv1').and.not.include('priv2');
      await as('limitedAdmin', request(server.url).get('/events/priv1/presence').query({ members: 1 })).expect(200);
      await as('limitedAdmin', request(server.url).get('/events/pub1/presence').query({ members: 1 })).expect(403);
    });
  });

  describe('chat, reactions and JSONP on a private event', () => {
    it('takes chat and reactions only from those who may read it', async () => {
      await request(server.url).post('/events/priv1/reactions').send({ emoji: '\u{1F44D}' }).expect(401);
      await as('plain', request(server.url).post('/events/priv1/reactions')).send({ emoji: '\u{1F44D}' }).expect(403);
      await as('reader', request(server.url).post('/events/priv1/reactions')).send({ emoji: '\u{1F44D}' }).expect(202);
      await as('plain', request(server.url).post('/events/priv1/chat')).send({ text: 'hi' }).expect(403);
      await as('reader', request(server.url).post('/events/priv1/chat')).send({ text: 'hi' }).expect(201);
    });

    it('answers a JSONP read with the refusal inside the script, and nothing of the event', async () => {
      const res = await request(server.url).get('/events/priv1').query({ callback: 'cb' }).expect(200);
      expect(res.text).to.match(/^\/\*\*\/cb\(\{"status":401,"error":\{"code":"unauthorized"/);
      expect(res.text).to.not.include('Secret');
      expect(res.headers['cross-origin-resource-policy']).to.equal('cross-origin');
    });
  });

  describe('an event that turns private while polls are held', () => {
    it('answers the held polls of those who may no longer read it with 401/403, not with the change', async () => {
      await put('flip1', { title: 'Flip' }).expect(201);
      const cursor = (await request(server.url).get('/events/flip1').expect(200)).body.cursor as string;
      const held = server.service.hub.heldPolls;
      const anon = request(server.url).get('/events/flip1/poll').query({ cursor, timeout: 30 }).then((r) => r);
      const plain = as('plain', request(server.url).get('/events/flip1/poll').query({ cursor, timeout: 30 })).then((r) => r);
      const multi = request(server.url).get('/poll').query({ subs: `flip1@${cursor}`, timeout: 30 }).then((r) => r);
      const admin = as('admin', request(server.url).get('/events/flip1/poll').query({ cursor, timeout: 30 })).then((r) => r);
      await until(() => server.service.hub.heldPolls === held + 4, 'the four polls are held');
      await put('flip1', { visibility: 'private', title: 'Now secret' }).expect(200);
      const [a, p, m, ad] = await Promise.all([anon, plain, multi, admin]);
      expect([a.status, a.body.error?.code]).to.deep.equal([401, 'unauthorized']);
      expect([p.status, p.body.error?.code]).to.deep.equal([403, 'forbidden']);
      expect(m.body.results[0]).to.deep.include({ event: 'flip1', status: 401 });
      for (const r of [a, p, m]) expect(r.text).to.not.include('Now secret');
      expect(ad.status).to.equal(200);
      expect(ad.body.deltas[0].data.meta.title).to.equal('Now secret');
    });
  });
});
