import { expect } from 'chai';
import http from 'node:http';
import type { PollAnswer } from '../lib/protocol.js';
import { startChildServer, type ChildServer } from './support/child.js';
import { requestJson, type JsonAnswer } from './support/client.js';
import { orAfter, waitFor } from './support/harness.js';
import { sample, scrape } from './support/metrics.js';
import { signHs256 } from './support/raw.js';
import { TEST_SECRET } from './support/server.js';

describe('SIGTERM drain of a real holdline process', function () {
  // Starting a child through tsx on a busy machine is slow; the assertions are about behaviour, not time.
  this.timeout(120_000);

  let server: ChildServer | null = null;
  const agents: http.Agent[] = [];
  afterEach(() => {
    server?.kill();
    server = null;
    for (const agent of agents.splice(0)) agent.destroy();
  });

  it('answers every one of 200 held polls with its cursor and retry advice, turns unready, and exits 0', async () => {
    const HELD = 200;
    server = await startChildServer({ JWT_SECRET: TEST_SECRET, DRAIN_TIMEOUT_MS: '5000', HOLD_TIMEOUT_MS: '60000' });
    const { url, exited } = server;
    const pollAgent = new http.Agent({ keepAlive: true, maxSockets: HELD + 10 });
    const opsAgent = new http.Agent({ keepAlive: false });
    agents.push(pollAgent, opsAgent);
    const admin = signHs256({ sub: 'admin', scope: 'publish admin', exp: Math.floor(Date.now() / 1000) + 600 }, TEST_SECRET);

    const put = await requestJson(`${url}/events/drain-me`, { method: 'PUT', headers: { authorization: `Bearer ${admin}` }, body: { state: 'live' }, agent: opsAgent });
    expect(put.status).to.equal(201);
    const score = await requestJson(`${url}/events/drain-me/scores`, { method: 'POST', headers: { authorization: `Bearer ${admin}` }, body: { data: { runs: 1 } }, agent: opsAgent });
    expect(score.status).to.equal(201);
    const cursor = (score.body as { cursor: string }).cursor;

    const polls: Array<Promise<JsonAnswer>> = [];
    for (let i = 0; i < HELD; i++) polls.push(requestJson(`${url}/events/drain-me/poll?cursor=${cursor}&viewer=v${i}`, { agent: pollAgent }));
    await waitFor(async () => sample(await scrape(url, opsAgent), 'holdline_held_polls') === HELD, `${HELD} held polls in the child`, 60_000);
    expect((await requestJson(`${url}/readyz`, { agent: opsAgent })).status).to.equal(200);

    expect(server.child.kill('SIGTERM')).to.equal(true);
    const answers = await Promise.all(polls);
    for (const res of answers) {
      expect(res.status).to.equal(200);
      const body = res.body as PollAnswer;
      expect(body.cursor).to.equal(cursor);
      expect(body.deltas).to.deep.equal([]);
      expect(body.advice?.retryMs).to.be.a('number').within(0, 1000);
    }
    // Jittered, so 200 clients do not all come back in the same millisecond.
    expect(new Set(answers.map((r) => (r.body as PollAnswer).advice?.retryMs)).size).to.be.above(1);

    // Once draining, the server is unready or gone.
    const ready = await requestJson(`${url}/readyz`, { agent: opsAgent }).then(
      (res) => res.status,
      (err: NodeJS.ErrnoException) => err.code ?? 'error',
    );
    expect(ready).to.be.oneOf([503, 'ECONNREFUSED', 'ECONNRESET']);

    const code = await orAfter(exited, 30_000, 'still running after 30 s');
    expect(code, server.stderr()).to.equal(0);
    expect(server.logs().some((l) => l.msg === 'draining' && l['signal'] === 'SIGTERM'), server.stdout()).to.equal(true);
  });

  it('exits 0 on SIGTERM with nothing held', async () => {
    server = await startChildServer({ JWT_SECRET: TEST_SECRET, DRAIN_TIMEOUT_MS: '5000' });
    const agent = new http.Agent({ keepAlive: false });
    agents.push(agent);
    expect((await requestJson(`${server.url}/healthz`, { agent })).status).to.equal(200);
    server.child.kill('SIGTERM');
    const code = await orAfter(server.exited, 30_000, 'still running after 30 s');
    expect(code, server.stderr()).to.equal(0);
  });
});
