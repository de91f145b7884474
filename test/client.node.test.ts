import { expect } from 'chai';
import { HoldlineClient, HoldlineHttpError, isPollAnswer } from '../tools/client.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('tools/client.ts against a real server', () => {
  let server: TestServer;
  let publisher: HoldlineClient;
  before(async () => {
    server = await startTestServer();
    publisher = new HoldlineClient({ baseUrl: server.url, token: server.adminToken });
    await publisher.putEvent('nc1', { title: 'Node client', sport: 'football', state: 'live' });
    await publisher.putEvent('nc2', { title: 'Second', sport: 'chess', state: 'live' });
  });
  after(() => server.close());

  it('joins, then holds a poll until a score is published', async () => {
    const viewer = new HoldlineClient({ baseUrl: server.url, viewer: 'ann' });
    const joined = await viewer.join('nc1');
    expect(joined.viewerId).to.equal('ann');
    expect(joined.advice?.timeoutMs).to.be.a('number');
    const held = viewer.poll('nc1', joined.cursor, { timeoutS: 10 });
    const published = await publisher.publish.score('nc1', { op: 'set', type: 'goal', data: { home: 1, away: 0 } }, 'g1');
    const answer = await held;
    expect(answer.deltas.map((d) => d.seq)).to.deep.equal([published.seq]);
    expect(answer.cursor).to.equal(published.cursor);
  });

  it('follows two events in one request', async () => {
    const viewer = new HoldlineClient({ baseUrl: server.url, viewer: 'bob' });
    const first = await viewer.pollMany({ nc1: null, nc2: null });
    expect(first.results.map((r) => r.event)).to.deep.equal(['nc1', 'nc2']);
    const cursors = Object.fromEntries(first.results.filter(isPollAnswer).map((r) => [r.event, r.cursor]));
    const held = viewer.pollMany(cursors, { timeoutS: 10 });
    await publisher.publish.notice('nc2', { type: 'move', title: '1. e4' });
    const next = await held;
    const nc2 = next.results.find((r) => r.event === 'nc2');
    expect(nc2 && isPollAnswer(nc2) ? nc2.deltas[0]?.kind : null).to.equal('notice');
  });

  it('throws the protocol error with its status and code', async () => {
    const anonymous = new HoldlineClient({ baseUrl: server.url });
    const err = await anonymous.publish.score('nc1', { data: {} }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(HoldlineHttpError);
    expect((err as HoldlineHttpError).status).to.equal(401);
    expect((err as HoldlineHttpError).code).to.equal('unauthorized');
  });

  it('leaves presence', async () => {
    const viewer = new HoldlineClient({ baseUrl: server.url, viewer: 'cat' });
    await viewer.poll('nc1', null);
    await viewer.leave('nc1');
  });
});
