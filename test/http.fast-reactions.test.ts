/**
 * The reactions fast path (lib/http/fast-reactions.ts): which requests it takes and which it
 * leaves to Koa (before reading a byte of the body), and that what it answers is what the Koa
 * route answers, refusals and headers included. Two extra servers share the harness's hub: one
 * runs the fast path with a recording fallback, the other only the Koa app.
 */
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request, { type Response } from 'supertest';
import { createApp } from '../lib/http/app.js';
import { createFastReactions } from '../lib/http/fast-reactions.js';
import { createLogger } from '../lib/log.js';
import { createEvent, freshId, startHarness, waitFor, type Harness } from './support/harness.js';
import { sample } from './support/metrics.js';

/** Headers whose values differ between any two answers, whichever path made them. */
const PER_ANSWER = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

function comparable(res: Response): Record<string, unknown> {
  const headers = Object.fromEntries(Object.entries(res.headers).filter(([name]) => !PER_ANSWER.has(name)));
  return { status: res.status, headers, body: res.text };
}

describe('the reactions fast path below Koa', () => {
  let h: Harness;
  let fastUrl: string;
  let koaUrl: string;
  const servers: http.Server[] = [];
  /** URLs the fast path handed to Koa. */
  const fellBack: string[] = [];

  before(async () => {
    h = await startHarness({ CORS_ORIGINS: 'https://widget.example', RATE_REACTIONS: '3/10' });
    const { hub, config, metrics, auth } = h.service;
    const logger = createLogger('silent');
    const deps = { hub, config, metrics, auth, logger };
    const koa = createApp(deps).callback();
    const fast = createFastReactions({ ...deps, log: () => undefined });
    const listen = async (handler: http.RequestListener): Promise<string> => {
      const server = http.createServer(handler);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    fastUrl = await listen((req, res) =>
      fast(req, res, () => {
        fellBack.push(req.url ?? '');
        void koa(req, res);
      }),
    );
    koaUrl = await listen((req, res) => void koa(req, res));
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
    await h.close();
  });

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
  async function takenFast(path: string, init: Init = json): Promise<boolean> {
    fellBack.length = 0;
    await init(request(fastUrl).post(path));
    return fellBack.length === 0;
  }

  it('takes a plain reaction: JSON or text/plain, with a viewer or a verified bearer token', async () => {
    const id = freshId('fr');
    await createEvent(h, id);
    expect(await takenFast(`/events/${id}/reactions`)).to.equal(true);
    expect(await takenFast(`/events/${id}/reactions?viewer=v1&unrelated=1`)).to.equal(true);
    expect(await takenFast(`/events/${id}/reactions`, (r) => r.set('Content-Type', 'text/plain;charset=UTF-8').send('{"emoji":"⚽"}'))).to.equal(true);
    expect(await takenFast(`/events/${id}/reactions`, (r) => json(r.set('Authorization', `Bearer ${h.adminToken}`)))).to.equal(true);
  });

  it('leaves to Koa, body unread, everything it does not take, and Koa answers it', async () => {
    const id = freshId('fr');
    await createEvent(h, id);
    const path = `/events/${id}/reactions`;
    const leftToKoa: [string, Init][] = [
      [`${path}?callback=cb`, json],
      [`${path}?access_token=${h.adminToken}`, json],
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
    fellBack.length = 0;
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${fastUrl}${path}?viewer=chunked`, { method: 'POST', headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"emoji":');
      req.end('"🎉"}');
    });
    expect(fellBack, 'a chunked body').to.have.length(1);
    expect(chunked).to.equal(202);
    // Compressed: Koa inflates it.
    fellBack.length = 0;
    const gzipped = await rawPost(`${fastUrl}${path}?viewer=gzipped`, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, gzipSync('{"emoji":"🎉"}'));
    expect(fellBack, 'a compressed body').to.have.length(1);
    expect(gzipped.status, gzipped.body).to.equal(202);
    const broken = await rawPost(`${fastUrl}${path}?viewer=broken`, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }, Buffer.from('not gzip'));
    expect(broken.status, broken.body).to.equal(400);
    expect(JSON.parse(broken.body).error).to.include({ code: 'invalid_request', field: 'body' });
  });

  it('answers exactly as the Koa route does: acceptance and every refusal, headers and all', async () => {
    const id = freshId('fr');
    await createEvent(h, id);
    const privateId = freshId('fr');
    await createEvent(h, privateId, { visibility: 'private' });
    const ended = freshId('fr');
    await createEvent(h, ended);
    await h.http().post(`/events/${ended}/end`).set('Authorization', `Bearer ${h.adminToken}`);
    const other = await h.token({ sub: 'eve', events: ['elsewhere'] });
    const raw = (type: string, text: string): Init => (r) => r.set('Content-Type', type).send(text);
    const cases: [string, string, Init][] = [
      ['accepted', `/events/${id}/reactions?viewer=p1`, json],
      ['accepted with CORS', `/events/${id}/reactions?viewer=p2`, (r) => json(r.set('Origin', 'https://widget.example'))],
      ['not JSON', `/events/${id}/reactions?viewer=p3`, raw('application/json', '{"emoji":')],
      ['not JSON as text/plain', `/events/${id}/reactions?viewer=p4`, raw('text/plain', 'nope')],
      ['a byte order mark first', `/events/${id}/reactions?viewer=p5`, raw('application/json', '\uFEFF{"emoji":"👏"}')],
      ['only blanks', `/events/${id}/reactions?viewer=p6`, raw('application/json', '   ')],
      ['no emoji', `/events/${id}/reactions?viewer=p7`, raw('application/json', '{}')],
      ['an unknown field', `/events/${id}/reactions?viewer=p8`, raw('application/json', '{"emoji":"👏","mood":1}')],
      ['a prototype key', `/events/${id}/reactions?viewer=p9`, raw('application/json', '{"__proto__":{"x":1},"emoji":"👏"}')],
      ['too deep', `/events/${id}/reactions?viewer=pa`, raw('application/json', `{"emoji":"👏","c":${'['.repeat(40)}${']'.repeat(40)}}`)],
      ['an unknown event', `/events/${freshId('missing')}/reactions`, json],
      ['a private event, anonymous', `/events/${privateId}/reactions`, json],
      ['a private event, another token', `/events/${privateId}/reactions`, (r) => json(r.set('Authorization', `Bearer ${other}`))],
      ['an ended event', `/events/${ended}/reactions`, json],
    ];
    for (const [name, path, init] of cases) {
      const viaKoa = await init(request(koaUrl).post(path.replace(/viewer=p/, 'viewer=k')));
      fellBack.length = 0;
      const viaFast = await init(request(fastUrl).post(path));
      expect(fellBack, `${name} was taken by the fast path`).to.deep.equal([]);
      expect(comparable(viaFast), name).to.deep.equal(comparable(viaKoa));
      expect(viaFast.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
    }
  });

  it('spends the same rate-limit budget as the route, and refuses past it alike', async () => {
    const id = freshId('fr');
    await createEvent(h, id);
    const answers: Response[] = [];
    // RATE_REACTIONS is 3 per 10 s: the fourth from one viewer is refused, whichever path.
    for (let i = 0; i < 3; i++) answers.push(await json(request(i % 2 === 0 ? fastUrl : koaUrl).post(`/events/${id}/reactions?viewer=budget`)));
    const fast = await json(request(fastUrl).post(`/events/${id}/reactions?viewer=budget`));
    const koa = await json(request(koaUrl).post(`/events/${id}/reactions?viewer=budget`));
    expect(answers.map((a) => a.status)).to.deep.equal([202, 202, 202]);
    expect(comparable(fast)).to.deep.equal(comparable(koa));
    expect(fast.status).to.equal(429);
    expect(fast.headers['retry-after']).to.match(/^\d+$/);
  });

  it('logs and counts what it answers under the route template, like the Koa route', async () => {
    const id = freshId('fr');
    await createEvent(h, id);
    const count = async (status: string): Promise<number> =>
      sample((await h.service.metrics.render()).body, 'holdline_http_responses_total', { method: 'POST', route: '/events/:eventId/reactions', status }) ?? 0;
    const [ok, bad] = [await count('202'), await count('400')];
    fellBack.length = 0;
    expect((await json(request(fastUrl).post(`/events/${id}/reactions?viewer=m1`))).status).to.equal(202);
    expect((await request(fastUrl).post(`/events/${id}/reactions?viewer=m2`).set('Content-Type', 'application/json').send('{}')).status).to.equal(400);
    expect(fellBack).to.deep.equal([]);
    await waitFor(async () => (await count('202')) === ok + 1 && (await count('400')) === bad + 1, 'both answers counted');
  });

  it('answers nothing and counts nothing twice when the client leaves mid-body', async () => {
    const id = freshId('fr');
    await createEvent(h, id);
    const { hostname, port } = new URL(fastUrl);
    await new Promise<void>((resolve) => {
      const req = http.request({ hostname, port, method: 'POST', path: `/events/${id}/reactions`, headers: { 'Content-Type': 'application/json', 'Content-Length': '40' } });
      req.on('error', () => resolve());
      req.write('{"emoji":');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    // The server is still answering others.
    expect((await json(request(fastUrl).post(`/events/${id}/reactions?viewer=after`))).status).to.equal(202);
  });
});
