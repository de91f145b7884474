import { expect } from 'chai';
import type { Response } from 'supertest';
import { wrapJsonp } from '../lib/http/request.js';
import { createEvent, expectError, freshId, postScore, startHarness, waitFor, type Harness } from './support/harness.js';

/** Checks the JSONP envelope and returns the object passed to the callback. */
function unwrap(res: Response, callback: string): Record<string, any> {
  expect(res.status, res.text).to.equal(200);
  expect(res.headers['content-type']).to.match(/^application\/javascript/);
  expect(res.headers['x-content-type-options']).to.equal('nosniff');
  const prefix = `/**/${callback}(`;
  expect(res.text.startsWith(prefix), res.text).to.equal(true);
  expect(res.text.endsWith(');')).to.equal(true);
  return JSON.parse(res.text.slice(prefix.length, -2)) as Record<string, any>;
}

describe('wrapJsonp(callback, status, json)', () => {
  it('splices the status in front of the fields without parsing', () => {
    expect(wrapJsonp('cb', 200, '{"a":1}')).to.equal('/**/cb({"status":200,"a":1});');
    expect(wrapJsonp('cb', 404, '{}')).to.equal('/**/cb({"status":404});');
    expect(wrapJsonp('cb', 200, '{ }')).to.equal('/**/cb({"status":200});');
    expect(wrapJsonp('cb', 204, '')).to.equal('/**/cb({"status":204});');
  });
  it('escapes U+2028 and U+2029', () => {
    expect(wrapJsonp('cb', 200, '{"t":"a\u2028b\u2029"}')).to.equal('/**/cb({"status":200,"t":"a\\u2028b\\u2029"});');
  });
});

describe('JSONP: GET with ?callback=', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_CHAT: '1000/10' });
  });
  after(async () => {
    await h.close();
  });

  it('wraps an answer as /**/cb({"status": 200, ...fields}); with HTTP 200', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id, { state: 'live' });
    const res = await h.http().get(`/events/${id}?callback=cb`);
    const body = unwrap(res, 'cb');
    expect(Object.keys(body)[0]).to.equal('status');
    expect(body).to.include({ status: 200, id, state: 'live' });
    expect(body['snapshot']).to.include({ seq: 0 });
  });

  it('accepts dotted and $ names up to 64 characters', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id);
    for (const cb of ['jQuery3_1.cb', '$', `_${'a'.repeat(63)}`, 'window.holdline.on$1']) {
      unwrap(await h.http().get(`/events/${id}?callback=${cb}`), cb);
    }
  });

  it('wraps errors too, with their real status inside and HTTP 200', async () => {
    const missing = unwrap(await h.http().get(`/events/${freshId('nope')}?callback=cb`), 'cb');
    expect(missing['status']).to.equal(404);
    expect(missing['error'].code).to.equal('not_found');
    const secret = freshId('private');
    await createEvent(h, secret, { visibility: 'private' });
    const res = await h.http().get(`/events/${secret}/poll?callback=cb`);
    expect(unwrap(res, 'cb')).to.deep.include({ status: 401 });
    expect(unwrap(await h.http().get('/events/x/no-such-route?callback=cb'), 'cb')['status']).to.equal(404);
    expect(unwrap(await h.http().get(`/events/${secret}/poll?cursor=zz&timeout=x&callback=cb`), 'cb')['error'].field).to.be.a('string');
  });

  it('refuses an invalid callback with a plain JSON 400 invalid_callback that never echoes it', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id);
    for (const cb of ['alert(1)', '1abc', 'a-b', `a${'b'.repeat(64)}`, '', '<script>', 'a%20b', 'ünïcode']) {
      const res = await h.http().get(`/events/${id}?callback=${encodeURIComponent(cb)}`);
      expectError(res, 400, 'invalid_callback', 'callback');
      if (cb !== '') expect(res.text).to.not.include(cb);
      expect(res.text).to.not.include('alert');
    }
  });

  it('refuses a callback given twice as any repeated parameter: plain 400 naming callback', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id);
    expectError(await h.http().get(`/events/${id}?callback=a&callback=b`), 400, 'invalid_request', 'callback');
  });

  it('wraps a held poll when it wakes, with Cache-Control: no-store, and takes access_token from the query', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id, { state: 'live', visibility: 'private' });
    const token = await h.token({ sub: 'widget', events: [id] });
    const join = await h.http().get(`/events/${id}/poll?callback=cb&access_token=${token}`);
    expect(join.headers['cache-control']).to.equal('no-store');
    const { cursor } = unwrap(join, 'cb');
    const held = h.http().get(`/events/${id}/poll?cursor=${cursor}&callback=cb&access_token=${token}`).then((r) => r);
    await waitFor(() => h.hub.heldPolls === 1, 'the poll to be held');
    await postScore(h, id, { data: { home: 1 } });
    const res = await held;
    expect(res.headers['cache-control']).to.equal('no-store');
    const body = unwrap(res, 'cb');
    expect(body['status']).to.equal(200);
    expect(body['deltas'].map((d: { kind: string }) => d.kind)).to.deep.equal(['score']);
  });

  it('wraps the error of a held poll whose event is deleted: {"status": 404, "error": ...} with HTTP 200', async () => {
    const id = freshId('jsonp');
    const { cursor } = await createEvent(h, id, { state: 'live' });
    const held = h.http().get(`/events/${id}/poll?cursor=${cursor}&callback=gone`).then((r) => r);
    await waitFor(() => h.hub.heldPolls === 1, 'the poll to be held');
    await h.http().delete(`/events/${id}`).set('Authorization', `Bearer ${h.adminToken}`).expect(204);
    const body = unwrap(await held, 'gone');
    expect(body['status']).to.equal(404);
    expect(body['error'].code).to.equal('not_found');
  });

  it('wraps a multi-event poll as {"status": 200, "results": [...]}', async () => {
    const a = freshId('a');
    const b = freshId('b');
    await createEvent(h, a);
    await createEvent(h, b);
    const body = unwrap(await h.http().get(`/poll?subs=${a},${b}&callback=multi`), 'multi');
    expect(Object.keys(body)).to.deep.equal(['status', 'results']);
    expect(body['results'].map((r: { event: string }) => r.event)).to.deep.equal([a, b]);
  });

  it('escapes U+2028 and U+2029, which older JavaScript cannot hold in a string literal', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id, { state: 'live' });
    const token = await h.token({ sub: 'poet' });
    await h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${token}`).send({ text: 'line\u2028para\u2029end' });
    const res = await h.http().get(`/events/${id}?callback=cb`);
    expect(res.text).to.not.match(/[\u2028\u2029]/);
    expect(unwrap(res, 'cb')['snapshot'].chat[0].text).to.equal('line\u2028para\u2029end');
  });

  it('leaves POST answers and the operations endpoints as plain JSON', async () => {
    const id = freshId('jsonp');
    await createEvent(h, id, { state: 'live' });
    const post = await h.http().post(`/events/${id}/reactions?callback=cb`).send({ emoji: '👍' });
    expect(post.status).to.equal(202);
    expect(post.headers['content-type']).to.match(/^application\/json/);
    const health = await h.http().get('/healthz?callback=cb');
    expect(health.headers['content-type']).to.match(/^application\/json/);
    expect(health.body).to.deep.equal({ status: 'ok' });
  });
});
