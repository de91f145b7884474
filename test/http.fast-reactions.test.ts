/**
 * The reactions fast path (lib/http/fast-reactions.ts): which requests it takes and which it
 * leaves to Koa (before reading a byte of the body), and that what it answers is what the Koa
 * route answers, refusals and headers included. Two extra servers share the harness's hub: one
 * runs the fast path with a recording fallback, the other only the Koa app.
 */
import { expect } from 'chai';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import request, { type Response } from 'supertest';
import { comparable, useFastPair } from './support/fast-pair.js';
import { createFastReactions } from '../lib/http/fast-reactions.js';
import { createEvent, freshId, waitFor } from './support/harness.js';

describe('the reactions fast path below Koa', () => {
  const w = useFastPair({ CORS_ORIGINS: 'https://widget.example', RATE_REACTIONS: '3/10' }, createFastReactions);

  type Init = (r: request.Test) => request.Test;

  /** A POST with exactly these headers and bytes (supertest would serialise a Buffer sent as JSON). */
  function rawPost(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(body.length) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  const json: Init = (r) => r.set('Content-Type', 'application/json').send('{"emoji":"👏"}');

  /** POSTs to `path` on the fast-path server; true when it was answered without Koa. */
  function takenFast(path: string, init: Init = json): Promise<boolean> {
    return w.takenFast((url) => init(request(url).post(path)));
  }

  it('takes a plain reaction: JSON or text/plain, with a viewer or a verified bearer token', async () => {
    const id = freshId('fr');
    await createEvent(w.h, id);
    expect(await takenFast(`/events/${id}/reactions`)).to.equal(true);
    expect(await takenFast(`/events/${id}/reactions?viewer=v1&unrelated=1`)).to.equal(true);
    expect(await takenFast(`/events/${id}/reactions`, (r) => r.set('Content-Type', 'text/plain;charset=UTF-8').send('{"emoji":"⚽"}'))).to.equal(true);
    expect(await takenFast(`/events/${id}/reactions`, (r) => json(r.set('Authorization', `Bearer ${w.h.adminToken}`)))).to.equal(true);
  });

  it('leaves to Koa, body unread, everything it does not take, and Koa answers it', async () => {
    const id = freshId('fr');
    await createEvent(w.h, id);
    const path = `/events/${id}/reactions`;
    const leftToKoa: [string, Init][] = [
      [`${path}?callback=cb`, json],
      [`${path}?access_token=${w.h.adminToken}`, json],
      [`${path}?viewer=v%31`, json],
      [`${path}?viewer=bad!`, json],
      [`${path}?viewer=a&viewer=b`, json],
      [`${path}/`, json],
      [`/EVENTS/${id}/reactions`, json],
      [path, (r) => json(r.set('Idempotency-Key', 'k1'))],
      [path, (r) => json(r.set('Authorization', 'Basic abc'))],
      [path, (r) => json(r.set('Authorization', 'Bearer not.a.token'))],
      [path, (r) => r.set('Content-Type', 'application/merge-patch+json').send('{"emoji":"👏"}')],
      [path, (r) => r.set('Content-Type', 'text/plain; charset=latin1').send('{"emoji":":)"}')],
      [path, (r) => r.set('Content-Type', 'application/x-www-form-urlencoded').send('emoji=x')],
      [path, (r) => r.set('Content-Type', 'application/json').send('x'.repeat(70_000))],
      [path, (r) => r.set('Content-Type', 'application/json')],
    ];
    for (const [url, init] of leftToKoa) expect(await takenFast(url, init), `${url} ${init.toString()}`).to.equal(false);
    // Chunked (no Content-Length): Koa reads it.
    w.fellBack.length = 0;
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${w.fastUrl}${path}?viewer=chunked`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"emoji":');
      req.end('"🎉"}');
    });
    expect(w.fellBack, 'a chunked body').to.have.length(1);
    expect(chunked).to.equal(202);
    // Compressed: Koa inflates it.
    w.fellBack.length = 0;
    const gzipped = await rawPost(`${w.fastUrl}${path}?viewer=gzipped`, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, gzipSync('{"emoji":"🎉"}'));
    expect(w.fellBack, 'a compressed body').to.have.length(1);
    expect(gzipped.status, gzipped.body).to.equal(202);
    const broken = await rawPost(`${w.fastUrl}${path}?viewer=broken`, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, Buffer.from('not gzip'));
    expect(broken.status, broken.body).to.equal(400);
    expect(JSON.parse(broken.body).error).to.include({ code: 'invalid_request', field: 'body' });
    const brokenBrotli = await rawPost(`${w.fastUrl}${path}?viewer=broken-br`, { 'Content-Type': 'application/json', 'Content-Encoding': 'br' }, Buffer.from('not brotli'));
    expect(brokenBrotli.status, brokenBrotli.body).to.equal(400);
    expect(JSON.parse(brokenBrotli.body).error).to.include({ code: 'invalid_request', field: 'body' });
  });

  it('answers exactly as the Koa route does: acceptance and every refusal, headers and all', async () => {
    const id = freshId('fr');
    await createEvent(w.h, id);
    const privateId = freshId('fr');
    await createEvent(w.h, privateId, { visibility: 'private' });
    const ended = freshId('fr');
    await createEvent(w.h, ended);
    await w.h.http().post(`/events/${ended}/end`).set('Authorization', `Bearer ${w.h.adminToken}`);
    const other = await w.h.token({ sub: 'eve', events: ['elsewhere'] });
    const raw = (type: string, text: string): Init => (r) => r.set('Content-Type', type).send(text);
    const cases: [string, string, Init][] = [
      ['accepted', `/events/${id}/reactions?viewer=p1`, json],
      ['accepted with CORS', `/events/${id}/reactions?viewer=p2`, (r) => json(r.set('Origin', 'https://widget.example'))],
      ['not JSON', `/events/${id}/reactions?viewer=p3`, raw('application/json', '{"emoji":')],
      ['not JSON as text/plain', `/events/${id}/reactions?viewer=p4`, raw('text/plain', 'nope')],
      ['a byte order mark first', `/events/${id}/reactions?viewer=p5`, raw('application/json', '\uFEFF{"emoji":"👏"}')],
      ['two byte order marks first', `/events/${id}/reactions?viewer=pb`, raw('text/plain', '\uFEFF\uFEFF{"emoji":"👏"}')],
      ['only blanks', `/events/${id}/reactions?viewer=p6`, raw('application/json', ' \t\r\n ')],
      ['only a no-break space', `/events/${id}/reactions?viewer=pc`, raw('application/json', '\u00a0')],
      ['no emoji', `/events/${id}/reactions?viewer=p7`, raw('application/json', '{}')],
      ['an unknown field', `/events/${id}/reactions?viewer=p8`, raw('application/json', '{"emoji":"👏","mood":1}')],
      ['a prototype key', `/events/${id}/reactions?viewer=p9`, raw('application/json', '{"__proto__":{"x":1},"emoji":"👏"}')],
      ['too deep', `/events/${id}/reactions?viewer=pa`, raw('application/json', `{"emoji":"👏","c":${'['.repeat(40)}${']'.repeat(40)}}`)],
      ['an unknown event', `/events/${freshId('missing')}/reactions`, json],
      ['a private event, anonymous', `/events/${privateId}/reactions`, json],
      ['a private event, another token', `/events/${privateId}/reactions`, (r) => json(r.set('Authorization', `Bearer ${other}`))],
      ['an ended event', `/events/${ended}/reactions`, json],
    ];
    // Each path's viewer its own (k… through Koa, p… fast), so neither spends the other's rate budget.
    await w.expectAnswersAsKoa(
      cases.map(([name, path, init]) => [name, (url: string, koa: boolean) => init(request(url).post(koa ? path.replace(/viewer=p/, 'viewer=k') : path))] as const),
    );
  });

  it('spends the same rate-limit budget as the route, and refuses past it alike', async () => {
    const id = freshId('fr');
    await createEvent(w.h, id);
    const answers: Response[] = [];
    // RATE_REACTIONS is 3 per 10 s: the fourth from one viewer is refused, whichever path.
    for (let i = 0; i < 3; i++) answers.push(await json(request(i % 2 === 0 ? w.fastUrl : w.koaUrl).post(`/events/${id}/reactions?viewer=budget`)));
    const fast = await json(request(w.fastUrl).post(`/events/${id}/reactions?viewer=budget`));
    const koa = await json(request(w.koaUrl).post(`/events/${id}/reactions?viewer=budget`));
    expect(answers.map((a) => a.status)).to.deep.equal([202, 202, 202]);
    expect(comparable(fast)).to.deep.equal(comparable(koa));
    expect(fast.status).to.equal(429);
    expect(fast.headers['retry-after']).to.match(/^\d+$/);
  });

  it('logs and counts what it answers under the route template, like the Koa route', async () => {
    const id = freshId('fr');
    await createEvent(w.h, id);
    const count = (status: string): Promise<number> => w.responses('POST', '/events/:eventId/reactions', status);
    const [ok, bad] = [await count('202'), await count('400')];
    w.fellBack.length = 0;
    expect((await json(request(w.fastUrl).post(`/events/${id}/reactions?viewer=m1`))).status).to.equal(202);
    expect((await request(w.fastUrl).post(`/events/${id}/reactions?viewer=m2`).set('Content-Type', 'application/json').send('{}')).status).to.equal(400);
    expect(w.fellBack).to.deep.equal([]);
    await waitFor(async () => (await count('202')) === ok + 1 && (await count('400')) === bad + 1, 'both answers counted');
  });

  it('answers nothing and counts nothing when the client leaves mid-body', async () => {
    const id = freshId('fr');
    await createEvent(w.h, id);
    const counted = async (): Promise<number> => {
      const text = (await w.h.service.metrics.render()).body;
      return text
        .split('\n')
        .filter((l) => l.startsWith('holdline_http_responses_total{') && l.includes('route="/events/:eventId/reactions"'))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    };
    const before = await counted();
    const { hostname, port } = new URL(w.fastUrl);
    await new Promise<void>((resolve) => {
      const req = http.request({ hostname, port, method: 'POST', path: `/events/${id}/reactions`, headers: { 'Content-Type': 'application/json', 'Content-Length': '40' } });
      req.on('error', () => resolve());
      req.write('{"emoji":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    // The server is still answering others, and only that answer is counted.
    expect((await json(request(w.fastUrl).post(`/events/${id}/reactions?viewer=after`))).status).to.equal(202);
    await waitFor(async () => (await counted()) === before + 1, 'the one answer counted');
    expect(await counted()).to.equal(before + 1);
  });
});
