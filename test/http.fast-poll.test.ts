/**
 * The poll fast path (lib/http/fast-poll.ts): which requests it takes and which it leaves to
 * Koa, and that what it answers is what the Koa route answers, headers included. Two extra
 * servers share the harness's hub: one runs the fast path with a recording fallback, the other
 * only the Koa app.
 */
import { expect } from 'chai';
import http from 'node:http';
import request from 'supertest';
import { comparable, useFastPair } from './support/fast-pair.js';
import { createFastPoll } from '../lib/http/fast-poll.js';
import { createEvent, freshId, postScore, waitFor } from './support/harness.js';

describe('the poll fast path below Koa', () => {
  const w = useFastPair({ CORS_ORIGINS: 'https://widget.example', HOLD_TIMEOUT_MS: '2000' }, createFastPoll);

  /** GETs `path` from the fast-path server; true when it was answered without Koa. */
  function takenFast(path: string, init: (r: request.Test) => request.Test = (r) => r): Promise<boolean> {
    return w.takenFast((url) => init(request(url).get(path)));
  }

  it('takes a plain poll and a poll with a verified bearer token', async () => {
    const id = freshId('fp');
    await createEvent(w.h, id);
    const { cursor } = await postScore(w.h, id, { data: { home: 1, away: 0 } });
    expect(await takenFast(`/events/${id}/poll`)).to.equal(true);
    expect(await takenFast(`/events/${id}/poll?cursor=${cursor}&viewer=v1&kinds=score&timeout=0&unrelated=1&flag`)).to.equal(true);
    expect(await takenFast(`/events/${id}/poll?timeout=0`, (r) => r.set('Authorization', `Bearer ${w.h.adminToken}`))).to.equal(true);
    expect(await takenFast(`/poll?subs=${id}@${cursor},${id}-x&viewer=v1&timeout=0`)).to.equal(true);
  });

  it('leaves to Koa everything it does not take, and Koa answers it', async () => {
    const id = freshId('fp');
    await createEvent(w.h, id);
    const leftToKoa: [string, ((r: request.Test) => request.Test)?][] = [
      [`/events/${id}/poll?callback=cb&timeout=0`],
      [`/events/${id}/poll?access_token=${w.h.adminToken}&timeout=0`],
      [`/events/${id}/poll?viewer=v%31&timeout=0`],
      [`/events/${id}/poll?kinds=score+notice&timeout=0`],
      [`/events/${id}/poll?timeout=0&timeout=1`],
      [`/events/${id}/poll?x=1&x=2&timeout=0`],
      [`/events/${id}/poll?viewer=not%20ok`],
      [`/events/${id}/poll?viewer=bad!`],
      [`/events/${id}/poll?timeout=soon`],
      [`/events/${id}/poll?kinds=nonsense`],
      [`/events/${id}/poll/?timeout=0`],
      [`/EVENTS/${id}/poll?timeout=0`],
      [`/events/-bad/poll`],
      [`/events/${id}/poll?timeout=0`, (r) => r.set('Authorization', 'Basic abc')],
      [`/events/${id}/poll?timeout=0`, (r) => r.set('Authorization', 'Bearer not.a.token')],
      [`/poll?timeout=0`],
      [`/poll?subs=&timeout=0`],
      [`/poll?subs=${id}%40x&timeout=0`],
      [`/poll?subs=${id},${id}&timeout=0`],
      [`/poll/?subs=${id}&timeout=0`],
    ];
    for (const [path, init] of leftToKoa) expect(await takenFast(path, init), path).to.equal(false);
    // A header that must come once, sent twice (an array value is sent as two lines).
    w.fellBack.length = 0;
    const twice = await new Promise<number>((resolve, reject) => {
      const auth = `Bearer ${w.h.adminToken}`;
      http.get(`${w.fastUrl}/events/${id}/poll?timeout=0`, { headers: { Authorization: [auth, auth] } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(w.fellBack, 'Authorization twice').to.have.length(1);
    expect(twice).to.equal(400);
    // A fragment (which supertest would strip) is dropped by Koa's URL parsing: Koa decides.
    w.fellBack.length = 0;
    const fragment = await new Promise<number>((resolve, reject) => {
      const { hostname, port } = new URL(w.fastUrl);
      http.get({ hostname, port, path: `/events/${id}/poll?timeout=0#x` }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    expect(w.fellBack, 'a URL with a fragment').to.have.length(1);
    expect(fragment).to.equal(200);
    // What the fast path left behind gets Koa's own answers.
    w.fellBack.length = 0;
    const bad = await request(w.fastUrl).get(`/events/${id}/poll?viewer=bad!`);
    expect(bad.status).to.equal(400);
    expect(bad.body.error.field).to.equal('viewer');
    const jsonp = await request(w.fastUrl).get(`/events/${id}/poll?callback=cb&timeout=0`);
    expect(jsonp.text).to.match(/^\/\*\*\/cb\(\{"status":200,/);
  });

  it('leaves polls to Koa while draining (which answers 503)', async () => {
    // Shadows the hub's draining getter on this instance only; the real drain is tested in drain.test.ts.
    const hub = w.h.service.hub as unknown as { draining: boolean };
    Object.defineProperty(hub, 'draining', { value: true, configurable: true });
    try {
      w.fellBack.length = 0;
      const res = await request(w.fastUrl).get(`/events/${freshId('fp')}/poll?timeout=0`);
      expect(w.fellBack).to.have.length(1);
      expect(res.status).to.equal(503);
    } finally {
      delete (hub as { draining?: boolean }).draining;
    }
    expect(w.h.service.hub.draining).to.equal(false);
  });

  it('answers at once exactly as the Koa route does: status, body and every header', async () => {
    const id = freshId('fp');
    await createEvent(w.h, id);
    await postScore(w.h, id, { data: { home: 2, away: 1 } });
    const privateId = freshId('fp');
    await createEvent(w.h, privateId, { visibility: 'private' });
    const reader = await w.h.token({ sub: 'r1', events: ['nothing-else'] });
    const cases: [string, (r: request.Test) => request.Test][] = [
      [`/events/${id}/poll?timeout=0`, (r) => r],
      [`/events/${id}/poll?cursor=garbage`, (r) => r],
      [`/events/${freshId('missing')}/poll`, (r) => r],
      [`/events/${id}/poll?timeout=0`, (r) => r.set('Origin', 'https://widget.example')],
      [`/events/${id}/poll?timeout=0`, (r) => r.set('Origin', 'https://elsewhere.example')],
      [`/events/${privateId}/poll?timeout=0`, (r) => r],
      [`/events/${privateId}/poll?timeout=0`, (r) => r.set('Authorization', `Bearer ${reader}`)],
      [`/events/${privateId}/poll?timeout=0`, (r) => r.set('Authorization', `Bearer ${w.h.adminToken}`)],
      [`/poll?subs=${id},${privateId}&timeout=0`, (r) => r],
      [`/poll?subs=${id}@garbage,${freshId('missing')}&timeout=0`, (r) => r.set('Origin', 'https://widget.example')],
    ];
    await w.expectAnswersAsKoa(cases.map(([path, init]) => [path, (url: string) => init(request(url).get(path))] as const));
  });

  it('holds, then answers a change to both paths with the same bytes, keeping a sane incoming request id', async () => {
    const id = freshId('fp');
    await createEvent(w.h, id);
    const { cursor } = await postScore(w.h, id, { data: { home: 0, away: 0 } });
    const held = w.h.hub.heldPolls;
    const path = `/events/${id}/poll?cursor=${cursor}`;
    const viaFast = request(w.fastUrl).get(path).set('X-Request-Id', 'trace-42').set('Origin', 'https://widget.example').then((r) => r);
    const viaKoa = request(w.koaUrl).get(path).set('X-Request-Id', 'trace-43').set('Origin', 'https://widget.example').then((r) => r);
    await waitFor(() => w.h.hub.heldPolls === held + 2, 'both polls held');
    await postScore(w.h, id, { data: { home: 1, away: 0 } });
    const [fast, koa] = await Promise.all([viaFast, viaKoa]);
    expect(comparable(fast)).to.deep.equal(comparable(koa));
    expect(fast.body.deltas).to.have.length(1);
    expect(fast.headers['x-request-id']).to.equal('trace-42');
    expect(koa.headers['x-request-id']).to.equal('trace-43');
  });

  it('holds a multi-event poll and answers it as the Koa route does', async () => {
    const a = freshId('fp');
    const b = freshId('fp');
    const { cursor: ca } = await createEvent(w.h, a);
    const { cursor: cb } = await createEvent(w.h, b);
    const held = w.h.hub.heldPolls;
    const path = `/poll?subs=${a}@${ca},${b}@${cb}&viewer=m1`;
    w.fellBack.length = 0;
    const viaFast = request(w.fastUrl).get(path).then((r) => r);
    const viaKoa = request(w.koaUrl).get(path.replace('viewer=m1', 'viewer=m2')).then((r) => r);
    await waitFor(() => w.h.hub.heldPolls === held + 2, 'both polls held');
    await postScore(w.h, b, { data: { home: 3, away: 3 } });
    const [fast, koa] = await Promise.all([viaFast, viaKoa]);
    expect(w.fellBack).to.deep.equal([]);
    expect(comparable(fast)).to.deep.equal(comparable(koa));
    expect(fast.body.results.map((r: { event: string; deltas: unknown[] }) => [r.event, r.deltas.length])).to.deep.equal([[a, 0], [b, 1]]);
  });

  it('logs and counts what it answers under the route template, like the Koa route', async () => {
    const id = freshId('fp');
    await createEvent(w.h, id);
    const count = (status: string): Promise<number> => w.responses('GET', '/events/:eventId/poll', status);
    const [ok, missing] = [await count('200'), await count('404')];
    w.fellBack.length = 0;
    expect((await request(w.fastUrl).get(`/events/${id}/poll?timeout=0`)).status).to.equal(200);
    expect((await request(w.fastUrl).get(`/events/${freshId('missing')}/poll?timeout=0`)).status).to.equal(404);
    expect(w.fellBack).to.deep.equal([]);
    await waitFor(async () => (await count('200')) === ok + 1 && (await count('404')) === missing + 1, 'both answers counted');
  });

  it('cancels a held poll whose client goes away', async () => {
    const id = freshId('fp');
    const { cursor } = await createEvent(w.h, id);
    const held = w.h.hub.heldPolls;
    const req = http.get(`${w.fastUrl}/events/${id}/poll?cursor=${cursor}`);
    req.on('error', () => undefined);
    await waitFor(() => w.h.hub.heldPolls === held + 1, 'the poll held');
    req.destroy();
    await waitFor(() => w.h.hub.heldPolls === held, 'the hold dropped');
  });
});
