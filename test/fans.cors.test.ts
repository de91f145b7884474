import { expect } from 'chai';
import type { Response } from 'supertest';
import { createEvent, freshId, startHarness, type Harness } from './support/harness.js';

const ALLOWED = 'https://fans.example';
const OTHER = 'https://evil.example';

/** Every Access-Control-* header of an answer. */
function corsHeaders(res: Response): string[] {
  return Object.keys(res.headers).filter((k) => k.startsWith('access-control-'));
}

describe('CORS (CORS_ORIGINS)', () => {
  describe('with a list of origins', () => {
    let h: Harness;
    let id: string;
    before(async () => {
      h = await startHarness({ CORS_ORIGINS: `${ALLOWED},https://widgets.example` });
      id = freshId('cors');
      await createEvent(h, id, { state: 'live' });
    });
    after(async () => {
      await h.close();
    });

    it('echoes an allowed origin and exposes the protocol headers, with Vary: Origin', async () => {
      const res = await h.http().get(`/events/${id}/poll`).set('Origin', ALLOWED);
      expect(res.status).to.equal(200);
      expect(res.headers['access-control-allow-origin']).to.equal(ALLOWED);
      expect(res.headers['access-control-expose-headers']).to.equal('Holdline-Hold, Idempotent-Replayed, Retry-After, WWW-Authenticate, X-Request-Id');
      expect(res.headers['vary']).to.match(/\bOrigin\b/);
      expect(res.headers['access-control-allow-credentials']).to.equal(undefined);
    });

    it('gives another origin no CORS headers at all', async () => {
      const res = await h.http().get(`/events/${id}/poll`).set('Origin', OTHER);
      expect(res.status).to.equal(200);
      expect(corsHeaders(res)).to.deep.equal([]);
      expect(res.headers['vary']).to.match(/\bOrigin\b/);
      expect(corsHeaders(await h.http().get(`/events/${id}/poll`).set('Origin', 'null'))).to.deep.equal([]);
    });

    it('answers an allowed preflight with 204, the methods, headers and a max age', async () => {
      const res = await h
        .http()
        .options(`/events/${id}/chat`)
        .set('Origin', ALLOWED)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization, content-type, idempotency-key');
      expect(res.status).to.equal(204);
      expect(res.headers['access-control-allow-origin']).to.equal(ALLOWED);
      expect(res.headers['access-control-allow-methods']).to.equal('GET, POST, PUT, DELETE, OPTIONS');
      expect(res.headers['access-control-allow-headers']).to.equal('Authorization, Content-Type, Idempotency-Key, X-Request-Id');
      expect(Number(res.headers['access-control-max-age'])).to.be.greaterThan(0);
      expect(res.headers['vary']).to.match(/\bOrigin\b/);
    });

    it('answers a preflight from another origin without any allow header', async () => {
      const res = await h.http().options(`/events/${id}/chat`).set('Origin', OTHER).set('Access-Control-Request-Method', 'POST');
      expect(corsHeaders(res)).to.deep.equal([]);
    });

    it('puts the CORS headers on error answers too', async () => {
      const missing = await h.http().get(`/events/${freshId('nope')}`).set('Origin', ALLOWED);
      expect(missing.status).to.equal(404);
      expect(missing.headers['access-control-allow-origin']).to.equal(ALLOWED);
      const anon = await h.http().post(`/events/${id}/chat`).set('Origin', ALLOWED).send({ text: 'hi' });
      expect(anon.status).to.equal(401);
      expect(anon.headers['access-control-allow-origin']).to.equal(ALLOWED);
      expect(anon.headers['www-authenticate']).to.match(/^Bearer/);
      expect(anon.headers['access-control-expose-headers']).to.include('WWW-Authenticate');
    });

    it('lets a text/plain reaction (a simple request, no preflight) through with the headers', async () => {
      const res = await h.http().post(`/events/${id}/reactions`).set('Origin', ALLOWED).set('Content-Type', 'text/plain').send('{"emoji":"🎉"}');
      expect(res.status).to.equal(202);
      expect(res.headers['access-control-allow-origin']).to.equal(ALLOWED);
    });
  });

  describe('with *', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ CORS_ORIGINS: '*' });
    });
    after(async () => {
      await h.close();
    });

    it('answers any origin with Access-Control-Allow-Origin: *', async () => {
      const res = await h.http().get('/events').set('Origin', OTHER);
      expect(res.headers['access-control-allow-origin']).to.equal('*');
      const pre = await h.http().options('/events').set('Origin', OTHER).set('Access-Control-Request-Method', 'GET');
      expect(pre.status).to.equal(204);
      expect(pre.headers['access-control-allow-origin']).to.equal('*');
    });
  });

  describe('unconfigured', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness();
    });
    after(async () => {
      await h.close();
    });

    it('sends no CORS headers to anyone', async () => {
      const res = await h.http().get('/events').set('Origin', ALLOWED);
      expect(corsHeaders(res)).to.deep.equal([]);
    });
  });
});
