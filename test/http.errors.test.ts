import { expect } from 'chai';
import http from 'node:http';
import {
  createEvent,
  expectError,
  expectUnchanged,
  freshId,
  getEvent,
  poll,
  postScore,
  startHarness,
  waitFor,
  type Harness,
} from './support/harness.js';
import { parseRaw, rawRequest, signHs256 } from './support/raw.js';
import { TEST_SECRET } from './support/server.js';

describe('errors over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ MAX_BODY_BYTES: '1024' });
  });
  after(async () => {
    await h.close();
  });
  const admin = () => `Bearer ${h.adminToken}`;
  const nowS = () => Math.floor(Date.now() / 1000);

  describe('400 invalid_request', () => {
    it('refuses a query parameter given twice, naming it', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      expectError(await h.http().get(`/events/${id}/poll?cursor=${cursor}&cursor=${cursor}`), 400, 'invalid_request', 'cursor');
      expectError(await h.http().get(`/events/${id}/poll?viewer=a&viewer=b`), 400, 'invalid_request', 'viewer');
      await expectUnchanged(h, id, async () => {
        expectError(
          await h.http().post(`/events/${id}/scores?x=1&x=2`).set('Authorization', admin()).send({ data: { a: 1 } }),
          400,
          'invalid_request',
          'x',
        );
      });
    });

    for (const bad of ['-starts-with-dash', 'has%20space', 'x'.repeat(129), 'caf%C3%A9', '.dot']) {
      it(`refuses the event id ${JSON.stringify(decodeURIComponent(bad).slice(0, 24))} with 400 naming eventId`, async () => {
        expectError(await h.http().get(`/events/${bad}`), 400, 'invalid_request', 'eventId');
        expectError(await h.http().get(`/events/${bad}/poll`), 400, 'invalid_request', 'eventId');
        expectError(await h.http().put(`/events/${bad}`).set('Authorization', admin()).send({}), 400, 'invalid_request', 'eventId');
        expectError(await h.http().post(`/events/${bad}/scores`).set('Authorization', admin()).send({ data: {} }), 400, 'invalid_request', 'eventId');
        expect((await h.http().get('/events').set('Authorization', admin())).body.events.map((e: { id: string }) => e.id)).to.not.include(decodeURIComponent(bad));
      });
    }

    it('accepts the longest event id the pattern allows', async () => {
      const id = `A${'b'.repeat(127)}`;
      const res = await h.http().put(`/events/${id}`).set('Authorization', admin()).send({});
      expect(res.status).to.equal(201);
      await h.http().delete(`/events/${id}`).set('Authorization', admin()).expect(204);
    });

    for (const key of ['__proto__', 'constructor', 'prototype']) {
      it(`refuses a "${key}" key anywhere in a body and changes nothing`, async () => {
        const id = freshId();
        await createEvent(h, id);
        await postScore(h, id, { data: { home: 1 } });
        const raw = (inner: string) => `{"op":"patch","data":{"home":2,"stats":[{"ok":1},{${inner}}]}}`;
        await expectUnchanged(h, id, async () => {
          for (const body of [`{"${key}":{"polluted":true},"data":{}}`, `{"data":{"${key}":{"polluted":true}}}`, raw(`"${key}":{"polluted":true}`)]) {
            for (const type of ['application/json', 'text/plain']) {
              const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Content-Type', type).send(body);
              const error = expectError(res, 400, 'invalid_request');
              expect(error.field).to.be.a('string').that.includes(key);
            }
          }
          expectError(
            await h.http().put(`/events/${id}`).set('Authorization', admin()).set('Content-Type', 'application/json').send(`{"meta":{"${key}":{"x":1}}}`),
            400,
            'invalid_request',
          );
        });
        expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
        expect((await getEvent(h, id)).snapshot.score).to.deep.equal({ home: 1 });
      });
    }

    it('refuses a token in both the Authorization header and access_token', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        const res = await h.http().post(`/events/${id}/scores?access_token=${h.adminToken}`).set('Authorization', admin()).send({ data: { a: 1 } });
        expectError(res, 400, 'invalid_request', 'access_token');
      });
      expectError(await h.http().get(`/events/${id}/poll?access_token=${h.adminToken}`).set('Authorization', admin()), 400, 'invalid_request', 'access_token');
    });

    it('refuses an Idempotency-Key that is not 1–255 visible characters', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Idempotency-Key', 'k'.repeat(256)).send({ data: { a: 1 } });
        expectError(res, 400, 'invalid_request', 'Idempotency-Key');
      });
    });
  });

  describe('400 invalid_json', () => {
    it('refuses a body that is not JSON, as application/json or text/plain', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        for (const type of ['application/json', 'text/plain']) {
          const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Content-Type', type).send('{"data": {');
          expectError(res, 400, 'invalid_json', 'body');
        }
      });
    });

    it('refuses a compressed body that does not inflate with 400 invalid_request naming the body, changing nothing', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        const body = 'not gzip at all';
        const bytes = `POST /events/${id}/scores HTTP/1.1\r\nHost: x\r\nAuthorization: ${admin()}\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
        const res = parseRaw(await rawRequest(h.service.port, bytes));
        expect(res.status).to.equal(400);
        expect(JSON.parse(res.body).error).to.include({ code: 'invalid_request', field: 'body' });
      });
    });

    it('accepts JSON 32 levels deep and refuses 33', async () => {
      const id = freshId();
      await createEvent(h, id);
      const nested = (levels: number) => {
        // The body object is level 1 and data level 2: nest data down to `levels` in all.
        let inner = '1';
        for (let i = 0; i < levels - 1; i++) inner = `{"a":${inner}}`;
        return `{"data":${inner}}`;
      };
      const ok = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Content-Type', 'application/json').send(nested(32));
      expect(ok.status, ok.text).to.equal(201);
      await expectUnchanged(h, id, async () => {
        const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Content-Type', 'application/json').send(nested(33));
        expect(res.status).to.equal(400);
        expect(res.body.error.code).to.be.oneOf(['invalid_json', 'invalid_request']);
        expect(res.body.error.field).to.be.a('string');
      });
    });
  });

  describe('400 invalid_cursor', () => {
    it('names the cursor field', async () => {
      const id = freshId();
      await createEvent(h, id);
      expectError(await h.http().get(`/events/${id}/poll?cursor=not-a-cursor`), 400, 'invalid_cursor', 'cursor');
    });
  });

  describe('401 unauthorized and invalid_token', () => {
    it('answers a write without a token with 401 unauthorized and WWW-Authenticate: Bearer', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        for (const [method, path] of [['post', `/events/${id}/scores`], ['post', `/events/${id}/notices`], ['post', `/events/${id}/end`], ['put', `/events/${id}`], ['delete', `/events/${id}`]] as const) {
          const req = h.http()[method](path);
          const res = method === 'post' && !path.endsWith('/end') ? await req.send({ data: {}, title: 't' }) : await req;
          expectError(res, 401, 'unauthorized');
          expect(res.headers['www-authenticate'], `${method} ${path}`).to.match(/^Bearer( |$)/);
          expect(res.headers['www-authenticate']).to.not.include('error=');
        }
      });
    });

    const refused: Array<[string, () => string]> = [
      ['a token signed with another secret', () => signHs256({ sub: 'x', scope: 'publish admin', exp: nowS() + 600 }, 'another-secret-0123456789abcdef0123')],
      ['an expired token', () => signHs256({ sub: 'x', scope: 'publish admin', exp: nowS() - 3600 }, TEST_SECRET)],
      ['a malformed token', () => 'not.a.jwt'],
      ['a token whose signature was altered', () => `${signHs256({ sub: 'x', scope: 'admin', exp: nowS() + 600 }, TEST_SECRET).slice(0, -4)}AAAA`],
      ['a token with an unsigned algorithm', () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', scope: 'admin' })).toString('base64url')}.`],
    ];
    for (const [what, make] of refused) {
      it(`refuses ${what} with 401 invalid_token and error="invalid_token"`, async () => {
        const id = freshId();
        await createEvent(h, id);
        await expectUnchanged(h, id, async () => {
          const res = await h.http().post(`/events/${id}/scores`).set('Authorization', `Bearer ${make()}`).send({ data: { a: 1 } });
          expectError(res, 401, 'invalid_token');
          expect(res.headers['www-authenticate']).to.match(/^Bearer .*error="invalid_token"/);
        });
        // Reading with a refused token is refused too, not silently anonymous.
        const read = await h.http().get(`/events/${id}/poll?access_token=${encodeURIComponent(make())}`);
        expectError(read, 401, 'invalid_token');
        expect(read.headers['www-authenticate']).to.include('error="invalid_token"');
      });
    }

    it('refuses an Authorization header that is not a Bearer token', async () => {
      const res = await h.http().get('/events').set('Authorization', 'Basic dXNlcjpwYXNz');
      expectError(res, 401, 'invalid_token');
      expect(res.headers['www-authenticate']).to.include('error="invalid_token"');
    });
  });

  describe('403 forbidden', () => {
    it('refuses writes from a token without the publish scope', async () => {
      const id = freshId();
      await createEvent(h, id);
      const viewer = await h.token({ sub: 'fan' });
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/scores`).set('Authorization', `Bearer ${viewer}`).send({ data: { a: 1 } }), 403, 'forbidden');
        expectError(await h.http().post(`/events/${id}/notices`).set('Authorization', `Bearer ${viewer}`).send({ title: 'x' }), 403, 'forbidden');
        expectError(await h.http().post(`/events/${id}/end`).set('Authorization', `Bearer ${viewer}`), 403, 'forbidden');
        expectError(await h.http().put(`/events/${id}`).set('Authorization', `Bearer ${viewer}`).send({ title: 'mine' }), 403, 'forbidden');
      });
      expectError(await h.http().put(`/events/${freshId()}`).set('Authorization', `Bearer ${viewer}`).send({}), 403, 'forbidden');
    });

    it('limits a publisher to the events its `events` claim lists', async () => {
      const mine = freshId('mine');
      const theirs = freshId('theirs');
      await createEvent(h, mine);
      await createEvent(h, theirs);
      const limited = `Bearer ${await h.token({ sub: 'scorer-2', scope: 'publish', events: [mine] })}`;
      expect((await h.http().post(`/events/${mine}/scores`).set('Authorization', limited).send({ data: { a: 1 } })).status).to.equal(201);
      await expectUnchanged(h, theirs, async () => {
        expectError(await h.http().post(`/events/${theirs}/scores`).set('Authorization', limited).send({ data: { a: 1 } }), 403, 'forbidden');
        expectError(await h.http().post(`/events/${theirs}/end`).set('Authorization', limited), 403, 'forbidden');
        expectError(await h.http().put(`/events/${theirs}`).set('Authorization', limited).send({ title: 'x' }), 403, 'forbidden');
      });
      expectError(await h.http().put(`/events/${freshId('new')}`).set('Authorization', limited).send({}), 403, 'forbidden');
    });
  });

  describe('404 not_found', () => {
    it('answers an unknown path and an unknown event as JSON', async () => {
      expectError(await h.http().get('/nowhere'), 404, 'not_found');
      expectError(await h.http().get(`/events/${freshId()}/nowhere`), 404, 'not_found');
      expectError(await h.http().get(`/events/${freshId()}/poll`), 404, 'not_found');
      expectError(await h.http().post(`/events/${freshId()}/notices`).set('Authorization', admin()).send({ title: 'x' }), 404, 'not_found');
    });
  });

  describe('405 method_not_allowed', () => {
    it('answers a known path with the wrong method with 405 and Allow', async () => {
      const id = freshId();
      await createEvent(h, id);
      const patch = await h.http().patch(`/events/${id}`).set('Authorization', admin()).send({});
      expectError(patch, 405, 'method_not_allowed');
      expect(String(patch.headers['allow']).split(/, */)).to.include.members(['GET', 'PUT', 'DELETE']);
      const post = await h.http().post(`/events/${id}/poll`);
      expectError(post, 405, 'method_not_allowed');
      expect(String(post.headers['allow'])).to.include('GET');
      expect(String(post.headers['allow'])).to.not.include('POST');
      const put = await h.http().put('/poll').send({});
      expectError(put, 405, 'method_not_allowed');
      expect(String(put.headers['allow']).split(/, */)).to.include.members(['GET', 'POST']);
    });
  });

  describe('409 conflicts', () => {
    it('refuses writes to an ended event with event_ended', async () => {
      const id = freshId();
      await createEvent(h, id);
      await h.http().post(`/events/${id}/end`).set('Authorization', admin()).expect(200);
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ data: {} }), 409, 'event_ended');
        expectError(await h.http().post(`/events/${id}/end`).set('Authorization', admin()), 409, 'event_ended');
      });
    });

    it('refuses a score version that does not grow with stale_version', async () => {
      const id = freshId();
      await createEvent(h, id);
      await postScore(h, id, { version: 3, data: { v: 3 } });
      await expectUnchanged(h, id, async () => {
        expectError(await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ version: 3, data: { v: 4 } }), 409, 'stale_version');
      });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer for a repeat with a JSON-equal body, appending nothing', async () => {
      const id = freshId();
      await createEvent(h, id);
      const send = (body: string) =>
        h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Idempotency-Key', 'k-1').set('Content-Type', 'application/json').send(body);
      const first = await send('{"type":"goal","data":{"home":1,"away":0}}');
      expect(first.status).to.equal(201);
      expect(first.headers['idempotent-replayed']).to.equal(undefined);
      await expectUnchanged(h, id, async () => {
        const again = await send('{"data":{"away":0,"home":1},"type":"goal"}');
        expect(again.status).to.equal(201);
        expect(again.headers['idempotent-replayed']).to.equal('true');
        expect(again.body).to.deep.equal(first.body);
      });
      const { body } = await poll(h, id, `cursor=${(await getEvent(h, id)).cursor.replace(/-\d+\.[0-9a-f]{8}$/, '-0')}&timeout=0`);
      expect(body.deltas).to.have.length(1);
    });

    it('replays /end and /notices too', async () => {
      const id = freshId();
      await createEvent(h, id);
      const notice = () => h.http().post(`/events/${id}/notices`).set('Authorization', admin()).set('Idempotency-Key', 'n-1').send({ title: 'Kick-off' });
      const n1 = await notice();
      expect(n1.status).to.equal(201);
      const n2 = await notice();
      expect(n2.headers['idempotent-replayed']).to.equal('true');
      expect(n2.body).to.deep.equal(n1.body);
      const end = () => h.http().post(`/events/${id}/end`).set('Authorization', admin()).set('Idempotency-Key', 'e-1');
      const e1 = await end();
      expect(e1.status).to.equal(200);
      const e2 = await end();
      expect(e2.status).to.equal(200);
      expect(e2.headers['idempotent-replayed']).to.equal('true');
      expect(e2.body).to.deep.equal(e1.body);
      expect((await getEvent(h, id)).cursor).to.match(/-2\.[0-9a-f]{8}$/);
    });

    it('refuses the same key with another body with 409 idempotency_conflict', async () => {
      const id = freshId();
      await createEvent(h, id);
      const send = (data: object) => h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Idempotency-Key', 'k-2').send({ data });
      expect((await send({ home: 1 })).status).to.equal(201);
      await expectUnchanged(h, id, async () => {
        expectError(await send({ home: 2 }), 409, 'idempotency_conflict');
      });
    });

    it('scopes a key to the identity that sent it', async () => {
      const id = freshId();
      await createEvent(h, id);
      const other = `Bearer ${await h.token({ sub: 'second-scorer', scope: 'publish' })}`;
      const send = (auth: string) => h.http().post(`/events/${id}/scores`).set('Authorization', auth).set('Idempotency-Key', 'shared').send({ data: { n: 1 } });
      const a = await send(admin());
      const b = await send(other);
      expect(a.status).to.equal(201);
      expect(b.status).to.equal(201);
      expect(b.headers['idempotent-replayed']).to.equal(undefined);
      expect([a.body.seq, b.body.seq]).to.deep.equal([1, 2]);
    });

    it('forgets a key whose write was refused, so a corrected retry appends', async () => {
      const id = freshId();
      await createEvent(h, id);
      await postScore(h, id, { version: 5, data: {} });
      const send = (version: number) => h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Idempotency-Key', 'retry').send({ version, data: {} });
      expectError(await send(4), 409, 'stale_version');
      const ok = await send(6);
      expect(ok.status).to.equal(201);
      expect(ok.headers['idempotent-replayed']).to.equal(undefined);
    });
  });

  describe('413 payload_too_large', () => {
    it('refuses a body over MAX_BODY_BYTES and changes nothing', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).send({ data: { blob: 'x'.repeat(2000) } });
        expectError(res, 413, 'payload_too_large');
      });
    });

    it('refuses a chunked body that grows over MAX_BODY_BYTES', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = http.request(`${h.url}/events/${id}/scores`, {
            method: 'POST',
            headers: { authorization: admin(), 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
          });
          req.on('response', (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          });
          req.on('error', reject);
          req.write('{"data":{"blob":"');
          for (let i = 0; i < 4; i++) req.write('y'.repeat(500));
          req.end('"}}');
        });
        expect(status).to.equal(413);
        expect(JSON.parse(body).error.code).to.equal('payload_too_large');
      });
    });
  });

  describe('415 unsupported_media_type', () => {
    it('refuses a body that is neither JSON nor text/plain', async () => {
      const id = freshId();
      await createEvent(h, id);
      await expectUnchanged(h, id, async () => {
        for (const type of ['application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
          const res = await h.http().post(`/events/${id}/scores`).set('Authorization', admin()).set('Content-Type', type).send('data=1');
          expectError(res, 415, 'unsupported_media_type');
        }
      });
    });
  });

  describe('what the HTTP parser refuses', () => {
    it('answers headers over 16 KiB with a JSON 431 headers_too_large', async () => {
      const raw = await rawRequest(h.service.port, `GET /events HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
      const res = parseRaw(raw);
      expect(res.status).to.equal(431);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(JSON.parse(res.body)).to.deep.equal({ error: { code: 'headers_too_large', message: 'request headers are too large' } });
    });

    it('answers a malformed request with a JSON 400 invalid_request', async () => {
      for (const bytes of [
        'THIS IS NOT HTTP\r\n\r\n',
        'POST /events/x/scores HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        'GET /events HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n',
      ]) {
        const res = parseRaw(await rawRequest(h.service.port, bytes));
        expect(res.status, bytes).to.equal(400);
        expect(res.headers['content-type']).to.match(/^application\/json/);
        expect(JSON.parse(res.body).error.code).to.equal('invalid_request');
      }
    });

    it('keeps serving after refusing them', async () => {
      expect((await h.http().get('/healthz')).status).to.equal(200);
    });
  });

  describe('503 draining', () => {
    let d: Harness;
    before(async () => {
      d = await startHarness();
    });
    after(async () => {
      await d.close();
    });

    it('refuses polls and writes with Retry-After once draining, and /readyz turns 503', async () => {
      const id = freshId();
      await createEvent(d, id);
      const cursor = (await getEvent(d, id)).cursor;
      const held = d.http().get(`/events/${id}/poll?cursor=${cursor}`).then((r) => r);
      await waitFor(() => d.hub.heldPolls === 1, 'the poll to be held');
      expect((await d.http().get('/readyz')).status).to.equal(200);
      const before = await d.service.store.snapshot(id);
      await d.hub.drain();
      const answered = await held;
      expect(answered.status).to.equal(200);
      expect(answered.body.cursor).to.equal(cursor);
      expect(answered.body.advice.retryMs).to.be.a('number').within(0, 1000);
      for (const res of [
        await d.http().get(`/events/${id}/poll?cursor=${cursor}`),
        await d.http().get(`/events/${id}`),
        await d.http().post(`/events/${id}/scores`).set('Authorization', `Bearer ${d.adminToken}`).send({ data: {} }),
        await d.http().get('/readyz'),
      ]) {
        expectError(res, 503, 'draining');
        expect(Number(res.headers['retry-after'])).to.be.at.least(1);
      }
      expect((await d.http().get('/healthz')).status).to.equal(200);
      // The refused write appended nothing (read from the store: HTTP reads are refused too now).
      expect(await d.service.store.snapshot(id)).to.deep.equal(before);
    });
  });
});
