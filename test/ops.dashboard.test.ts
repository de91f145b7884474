import { expect } from 'chai';
import { OPS_EVENT } from '../lib/protocol.js';
import { HoldlineClient, HoldlineHttpError } from '../tools/client.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Tick { at: number; events: Array<{ id: string; viewers: number; minutes: unknown[] }>; servers: Record<string, { deltas: Record<string, number>; heldPolls: number }> }

/** The live dashboard's data: GET /admin/summary and the ops event every server ticks into. */
describe('the dashboard\'s data (/admin/summary, the holdline-ops event)', function () {
  this.timeout(30_000);
  let server: TestServer;
  let admin: HoldlineClient;

  before(async () => {
    server = await startTestServer();
    admin = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
    await admin.putEvent('dash-1', { title: 'Dash one', sport: 'football', state: 'live' });
  });
  after(() => server?.close());

  it('answers the summary to admins only, with the hour of each live event and this server\'s counters', async () => {
    expect((await fetch(`${server.url}/admin/summary`)).status).to.equal(401);
    const publisher = await server.token({ sub: 'p', scope: 'publish' });
    expect((await fetch(`${server.url}/admin/summary`, { headers: { authorization: `Bearer ${publisher}` } })).status).to.equal(403);
    await admin.publish.score('dash-1', { op: 'set', data: { home: 0 } });
    const s = await admin.request<Tick>('GET', '/admin/summary');
    const e = s.events.find((x) => x.id === 'dash-1')!;
    expect(e.minutes).to.have.length(60);
    expect(s.events.map((x) => x.id), 'the ops event is not listed').not.to.include(OPS_EVENT);
    const [part] = Object.values(s.servers);
    expect(part!.deltas['score']).to.be.at.least(1);
  });

  it('ticks into the ops event while someone follows it, without counting its own ticks as deltas', async () => {
    // The dashboard reads the summary first, which makes the event it then follows.
    await admin.request('GET', '/admin/summary');
    const first = await admin.poll(OPS_EVENT, null);
    let cursor = first.cursor;
    const ticks: Tick[] = [];
    while (ticks.length < 2) {
      const answer = await admin.poll(OPS_EVENT, cursor, { timeoutS: 5 });
      for (const d of answer.deltas) if (d.kind === 'score' && d.type === 'tick') ticks.push(d.data as unknown as Tick);
      cursor = answer.cursor;
    }
    const [a, b] = ticks.map((t) => Object.values(t.servers)[0]!.deltas['score']);
    expect(b, 'two ticks apart, nothing else published: the score count stands still').to.equal(a);
    expect(ticks[1]!.events.map((e) => e.id)).to.include('dash-1');
  });

  it('lets no publisher write the ops event (the dashboard would show its numbers)', async () => {
    const publisher = new HoldlineClient({ baseUrl: server.url, token: await server.token({ sub: 'p', scope: 'publish' }) });
    const err = await publisher.publish.score(OPS_EVENT, { op: 'patch', data: { servers: { fake: { heldPolls: 1e9 } } } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HoldlineHttpError);
    expect((err as HoldlineHttpError).status).to.equal(403);
    const viewer = new HoldlineClient({ baseUrl: server.url });
    const hidden = await viewer.poll(OPS_EVENT, null).catch((e: unknown) => e);
    expect((hidden as HoldlineHttpError).status, 'private').to.equal(401);
  });
});
