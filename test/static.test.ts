import { expect } from 'chai';
import supertest from 'supertest';
import { startTestServer, type TestServer } from './support/server.js';

describe('static files: /holdline.js, /widget.js, /demo/', () => {
  let server: TestServer;
  let http: ReturnType<typeof supertest>;
  before(async () => {
    server = await startTestServer({}, { demoEvents: ['demo-football', 'demo-cricket', 'demo-chess', 'demo-workout'] });
    http = supertest(server.url);
  });
  after(() => server.close());

  for (const path of ['/holdline.js', '/widget.js']) {
    it(`serves ${path} as JavaScript that any origin may load`, async () => {
      const res = await http.get(path).expect(200);
      expect(res.headers['content-type']).to.equal('application/javascript; charset=utf-8');
      expect(res.headers['cross-origin-resource-policy']).to.equal('cross-origin');
      expect(res.headers['cache-control']).to.equal('public, max-age=300');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['etag']).to.match(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    });
  }

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await http.get('/holdline.js').expect(200);
    await http.get('/holdline.js').set('If-None-Match', first.headers['etag'] as string).expect(304);
  });

  it('serves the demo pages as HTML that is revalidated on every visit', async () => {
    const res = await http.get('/demo/').expect(200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(res.headers['cache-control']).to.equal('no-cache');
    expect(res.headers['cross-origin-resource-policy']).to.equal(undefined);
    for (const page of ['football', 'cricket', 'chess', 'workout']) {
      expect(res.text).to.contain(`${page}.html`);
      const one = await http.get(`/demo/${page}.html`).expect(200);
      expect(one.text).to.contain(`data-holdline-event="demo-${page}"`);
      expect(one.text).to.contain('/widget.js');
    }
  });

  it('sends /demo and / to /demo/', async () => {
    await http.get('/demo').expect(301).expect('Location', '/demo/');
    await http.get('/').expect(302).expect('Location', '/demo/');
  });

  it('never leaves its folders, however the path is spelled', async () => {
    for (const path of [
      '/demo/..%2Fpackage.json',
      '/demo/%2e%2e%2F%2e%2e%2Fpackage.json',
      '/demo/..%5C..%5Cpackage.json',
      '/demo/.gitignore',
      '/demo/../package.json',
      '/demo/index.html%00.png',
      '/demo/nope.html',
      '/holdline.js/..',
    ]) {
      const res = await http.get(path);
      expect(res.status, path).to.be.oneOf([400, 404]);
      expect(res.text, path).to.not.contain('"dependencies"');
    }
  });

  it('answers HEAD without a body', async () => {
    const res = await http.head('/widget.js').expect(200);
    expect(res.headers['content-type']).to.equal('application/javascript; charset=utf-8');
    expect(res.text ?? '').to.equal('');
  });
});
