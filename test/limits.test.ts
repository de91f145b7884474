import { expect } from 'chai';
import type { Response } from 'supertest';
import { createEvent, expectError, getEvent, startHarness, waitFor, type Harness } from './support/harness.js';
import { parseRaw, rawRequest } from './support/raw.js';

/** The abuse limits of lib/config.ts, each at a small setting, over HTTP. */
describe('abuse limits over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      MAX_EVENTS: '3', MAX_HELD_PER_ADDRESS: '2', MAX_HEADER_BYTES: '4096', MAX_QUERY_BYTES: '300', MAX_PATH_BYTES: '300',
      MAX_BODY_BYTES: '1024', MAX_JSON_DEPTH: '8',
    });
    await createEvent(h, 'l-1');
  });
  after(() => h.close());
  afterEach(async () => {
    h.clock.advance(60_000);
    await waitFor(() => h.hub.heldPolls === 0, 'leftover holds to end');
  });
  const admin = () => `Bearer ${h.adminToken}`;

  it('MAX_EVENTS: a new event beyond the cap is 503 unavailable with Retry-After, and nothing is made', async () => {
    await createEvent(h, 'l-2');
    await createEvent(h, 'l-3');
    const res = await h.http().put('/events/l-4').set('Authorization', admin()).send({ title: 'one too many' });
    expectError(res, 503, 'unavailable');
    expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
    expectError(await h.http().get('/events/l-4').set('Authorization', admin()), 404, 'not_found');
    // Updating an existing event is not creating one.
    await h.http().put('/events/l-3').set('Authorization', admin()).send({ title: 'renamed' }).expect(200);
  });

  it('MAX_HELD_PER_ADDRESS: a poll beyond the cap is 429 rate_limited with Retry-After', async () => {
    const { cursor } = await getEvent(h, 'l-1');
    const held = [0, 1].map(() => h.http().get('/events/l-1/poll').query({ cursor }).then((r: Response) => r));
    await waitFor(() => h.hub.heldPolls === 2, 'two held polls');
    const refused = await h.http().get('/events/l-1/poll').query({ cursor });
    expectError(refused, 429, 'rate_limited');
    expect(Number(refused.headers['retry-after'])).to.be.greaterThan(0);
    h.clock.advance(60_000);
    for (const res of await Promise.all(held)) expect(res.status).to.equal(200);
  });

  it('one held poll per viewer per event: a second poll answers the first with its cursor', async () => {
    const { cursor } = await getEvent(h, 'l-1');
    const first = h.http().get('/events/l-1/poll').query({ cursor, viewer: 'fan-1' }).then((r: Response) => r);
    await waitFor(() => h.hub.heldPolls === 1, 'the first poll held');
    const second = h.http().get('/events/l-1/poll').query({ cursor, viewer: 'fan-1' }).then((r: Response) => r);
    const answered = await first;
    expect(answered.status).to.equal(200);
    expect(answered.body).to.include({ cursor });
    expect(answered.body.advice.retryMs).to.be.greaterThan(0);
    await waitFor(() => h.hub.heldPolls === 1, 'the second poll held');
    h.clock.advance(60_000);
    expect((await second).status).to.equal(200);
  });

  it('MAX_HEADER_BYTES: headers over the setting are a JSON 431', async () => {
    const res = parseRaw(await rawRequest(h.service.port, `GET /events HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(5000)}\r\nConnection: close\r\n\r\n`));
    expect(res.status).to.equal(431);
    expect(JSON.parse(res.body).error.code).to.equal('headers_too_large');
    const fits = parseRaw(await rawRequest(h.service.port, `GET /events HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(3000)}\r\nConnection: close\r\n\r\n`));
    expect(fits.status).to.equal(200);
  });

  it('MAX_QUERY_BYTES: a longer query string is 400 naming query; access_token does not count', async () => {
    expectError(await h.http().get(`/events?pad=${'q'.repeat(300)}`), 400, 'invalid_request', 'query');
    await h.http().get(`/events?pad=${'q'.repeat(250)}`).expect(200);
    await h.http().get('/events').query({ access_token: h.adminToken, pad: 'q'.repeat(250) }).expect(200);
  });

  it('MAX_PATH_BYTES: a longer path is 400 naming path', async () => {
    expectError(await h.http().get(`/events/${'x/'.repeat(160)}`), 400, 'invalid_request', 'path');
  });

  it('MAX_BODY_BYTES and MAX_JSON_DEPTH: refused, and the event is unchanged', async () => {
    const before = await getEvent(h, 'l-1');
    const big = await h.http().post('/events/l-1/notices').set('Authorization', admin()).send({ title: 't', body: 'b'.repeat(1100) });
    expectError(big, 413, 'payload_too_large');
    const deep = await h.http().post('/events/l-1/scores').set('Authorization', admin()).set('Content-Type', 'application/json')
      .send(`{"data":${'{"a":'.repeat(8)}1${'}'.repeat(8)}}`);
    expectError(deep, 400, 'invalid_json');
    const after = await getEvent(h, 'l-1');
    expect(after.cursor).to.equal(before.cursor);
    expect(after.snapshot).to.deep.equal(before.snapshot);
  });
});
