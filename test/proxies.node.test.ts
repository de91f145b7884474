import { expect } from 'chai';
import type { PollAnswer } from '../lib/protocol.js';
import { HoldlineClient, HoldlineHttpError, HoldlineNetworkError, NOT_JSON } from '../tools/client.js';
import { simulate } from '../tools/simulator/index.js';
import { NGINX, requireBinary, startNginx, type RunningProxy } from './support/proxies.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The Node client and the simulator through our own nginx (`proxy_buffering off`). Scaled down
 * by 5 to keep the suite fast, with the same logic as the 10 s / 25 s path of the browser
 * suite: nginx cuts at 2 s (`proxy_read_timeout 2s`), the server holds 5 s by default, and the
 * simulated viewers' hold floor is 1 s instead of 5 s.
 */
describe('the Node client and the simulator through nginx that cuts holds at 2 s', function () {
  this.timeout(60_000);
  let server: TestServer;
  let nginx: RunningProxy;
  let publisher: HoldlineClient;

  before(async function () {
    requireBinary(this, NGINX, 'nginx');
    server = await startTestServer({ HOLD_TIMEOUT_MS: '5000', MAX_HOLD_MS: '20000' });
    // `return 444` closes the connection with no answer at all: a request cut before any byte.
    nginx = await startNginx(server.service.port, { readTimeoutS: 2, extra: 'location ^~ /events/gone { return 444; }' });
    publisher = new HoldlineClient({ baseUrl: nginx.url, token: server.adminToken });
    await publisher.putEvent('px', { title: 'Behind nginx', sport: 'football', state: 'live' });
  });
  after(async () => {
    await nginx?.close();
    await server?.close();
  });

  it('gives the status of a proxy’s HTML 504 as a HoldlineHttpError, not a SyntaxError', async () => {
    const viewer = new HoldlineClient({ baseUrl: nginx.url, viewer: 'n1' });
    const joined = await viewer.join('px');
    const err = await viewer.poll('px', joined.cursor).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HoldlineHttpError);
    expect(err).to.include({ status: 504, code: NOT_JSON, fromServer: false });
    // The server's own refusals through the same proxy still carry their code.
    const refused = (await viewer.poll('nope', null).catch((e: unknown) => e)) as HoldlineHttpError;
    expect(refused).to.include({ status: 404, code: 'not_found', fromServer: true });
  });

  it('sends a GET or a keyed write once more when the proxy closes the connection with no answer, a keyless write never', async () => {
    const client = new HoldlineClient({ baseUrl: nginx.url, token: server.adminToken });
    const seen = (path: string) => nginx.accessLog().filter((l) => l.includes(` ${path}`)).length;
    const get = await client.getEvent('gone').catch((e: unknown) => e);
    expect(get).to.be.instanceOf(HoldlineNetworkError);
    expect((get as HoldlineNetworkError).retried).to.equal(true);
    await client.publish.notice('gone', { title: 'once' }).catch((e: unknown) => e);
    await client.publish.notice('gone', { title: 'twice' }, 'key-1').catch((e: unknown) => e);
    // nginx logs a 444 when it has closed the connection.
    await new Promise((r) => setTimeout(r, 200));
    expect(seen('/events/gone HTTP')).to.equal(2);
    expect(seen('/events/gone/notices')).to.equal(3);
  });

  it('follows an event through cuts with nothing lost or duplicated', async () => {
    const viewer = new HoldlineClient({ baseUrl: nginx.url, viewer: 'n2' });
    let cursor = (await viewer.join('px')).cursor;
    const got: number[] = [];
    const published: number[] = [];
    let cuts = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          const answer: PollAnswer = await viewer.poll('px', cursor, { timeoutS: 5 });
          got.push(...answer.deltas.map((d) => d.seq));
          cursor = answer.cursor;
        } catch (err) {
          // A cut: the proxy's page, not the server's; the same cursor again at once.
          if (!(err instanceof HoldlineHttpError) || err.fromServer) throw err;
          cuts += 1;
        }
      }
    })();
    for (let k = 1; k <= 3; k++) {
      while (cuts < k) await new Promise((r) => setTimeout(r, 50));
      published.push((await publisher.publish.notice('px', { title: `after cut ${k}` })).seq);
    }
    for (let k = 0; k < 3; k++) published.push((await publisher.publish.notice('px', { title: `burst ${k}` })).seq);
    while (got.length < published.length) await new Promise((r) => setTimeout(r, 50));
    stop = true;
    await publisher.publish.notice('px', { title: 'last' });
    await loop;
    expect(got.slice(0, published.length)).to.deep.equal(published);
    expect(new Set(got).size).to.equal(got.length);
  });

  it('simulates 50 viewers that adapt their holds as the browser client does: cuts counted apart, nothing lost, verdict by --max-latency', async () => {
    const report = await simulate({
      url: nginx.url,
      events: ['sim-px'],
      viewers: 50,
      durationMs: 9000,
      publishRate: 0.4,
      token: server.adminToken,
      holds: { floorMs: 1000, cutMinMs: 500 },
      maxLatencyMs: 3000,
    });
    expect(report).to.include({ connected: 50, gaps: 0, duplicates: 0, outOfOrder: 0, behind: 0, late: 0, maxLatencyMs: 3000, ok: true });
    expect(report.published).to.be.at.least(3);
    // Each viewer's first quiet poll (5 s) was cut at 2 s, and its next holds fit under it.
    expect(report.cuts).to.be.at.least(50);
    expect(report.maxCutsPerViewer).to.be.at.most(2);
    expect(report.errors).to.deep.equal({});

    // A bound no delivery can meet fails the verdict, and says how many were late.
    const strict = await simulate({ url: nginx.url, events: ['sim-px2'], viewers: 5, durationMs: 500, publishRate: 10, publishCount: 3, token: server.adminToken, maxLatencyMs: 0.001 });
    expect(strict).to.include({ gaps: 0, duplicates: 0, ok: false });
    expect(strict.late).to.equal(strict.latencyMs.count).and.be.above(0);
  });
});
