import { expect } from 'chai';
import http from 'node:http';
import { requestJson } from './support/client.js';
import { createEvent, freshId, postScore, sleep, startHarness, waitFor, type Harness } from './support/harness.js';
import { METRICS_AUTH } from './support/server.js';

/** The holdline_held_polls gauge as /metrics reports it. */
async function heldGauge(h: Harness): Promise<number> {
  const text = (await h.http().get('/metrics').set(METRICS_AUTH)).text;
  const m = /^holdline_held_polls (\d+)$/m.exec(text);
  if (!m) throw new Error('holdline_held_polls is missing from /metrics');
  return Number(m[1]);
}

describe('held polls whose clients go away', function () {
  this.timeout(60_000);

  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });
  const agents: http.Agent[] = [];
  afterEach(() => {
    for (const agent of agents.splice(0)) agent.destroy();
  });

  /** Starts `count` held polls on `path`, each on a socket of its own; resolves once all are held. */
  async function holdMany(count: number, path: string): Promise<{ requests: http.ClientRequest[]; outcomes: Promise<string[]> }> {
    const agent = new http.Agent({ keepAlive: false, maxSockets: count + 10 });
    agents.push(agent);
    const requests: http.ClientRequest[] = [];
    const outcomes: Array<Promise<string>> = [];
    for (let i = 0; i < count; i++) {
      const req = http.request(`${h.url}${path}&viewer=gone${i}`, { agent });
      outcomes.push(
        new Promise<string>((resolve) => {
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve(`answered ${res.statusCode}`));
            res.on('error', () => resolve('aborted'));
          });
          req.on('error', () => resolve('aborted'));
        }),
      );
      req.end();
      requests.push(req);
    }
    await waitFor(() => h.hub.heldPolls === count, `${count} held polls`, 30_000);
    return { requests, outcomes: Promise.all(outcomes) };
  }

  it('leaves no waiter and no hold timer behind when 200 clients destroy their sockets', async () => {
    const id = freshId();
    const { cursor } = await createEvent(h, id);
    const baseline = h.clock.activeTimers;
    const { requests, outcomes } = await holdMany(200, `/events/${id}/poll?cursor=${cursor}`);
    expect(await heldGauge(h)).to.equal(200);
    expect(h.clock.activeTimers, 'the hold timer wheel runs while polls are held').to.equal(baseline + 1);

    for (const req of requests) req.destroy();
    expect(await outcomes).to.satisfy((all: string[]) => all.every((o) => o === 'aborted'));
    await waitFor(() => h.hub.heldPolls === 0, 'every aborted hold to be dropped');
    expect(await heldGauge(h)).to.equal(0);
    expect(h.clock.activeTimers, 'the hold timer wheel stops when nothing is held').to.equal(baseline);

    // Publishing afterwards finds nobody to answer, and the server keeps serving.
    await postScore(h, id, { data: { n: 1 } });
    await sleep(20);
    expect(h.hub.heldPolls).to.equal(0);
    const res = await requestJson(`${h.url}/events/${id}/poll?cursor=${cursor}`);
    expect(res.status).to.equal(200);
    expect((res.body as { deltas: unknown[] }).deltas).to.have.length(1);
  });

  it('leaves no waiter behind when fetch calls are aborted with an AbortController', async () => {
    const id = freshId();
    const { cursor } = await createEvent(h, id);
    const baseline = h.clock.activeTimers;
    const controllers = Array.from({ length: 200 }, () => new AbortController());
    const fetches = controllers.map((c, i) =>
      fetch(`${h.url}/events/${id}/poll?cursor=${cursor}&viewer=f${i}`, { signal: c.signal }).then(
        () => 'answered',
        (err: Error) => err.name,
      ),
    );
    await waitFor(() => h.hub.heldPolls === 200, '200 held polls', 30_000);
    for (const c of controllers) c.abort();
    expect(new Set(await Promise.all(fetches))).to.deep.equal(new Set(['AbortError']));
    await waitFor(() => h.hub.heldPolls === 0, 'every aborted hold to be dropped');
    expect(await heldGauge(h)).to.equal(0);
    expect(h.clock.activeTimers).to.equal(baseline);
  });

  it('drops the aborted holds of a multi-event poll from every event it followed', async () => {
    const a = freshId('a');
    const b = freshId('b');
    const ca = (await createEvent(h, a)).cursor;
    const cb = (await createEvent(h, b)).cursor;
    const { requests, outcomes } = await holdMany(50, `/poll?subs=${a}@${ca},${b}@${cb}`);
    for (const req of requests) req.destroy();
    await outcomes;
    await waitFor(() => h.hub.heldPolls === 0, 'every aborted hold to be dropped');
    // A survivor held on both events is answered by news on either, once.
    const survivor = requestJson(`${h.url}/poll?subs=${a}@${ca},${b}@${cb}`);
    await waitFor(() => h.hub.heldPolls === 1, 'the survivor to be held');
    await postScore(h, b, { data: { n: 1 } });
    const res = await survivor;
    expect(res.status).to.equal(200);
    expect(h.hub.heldPolls).to.equal(0);
    expect(await heldGauge(h)).to.equal(0);
  });

  it('drops only the aborted holds and still answers the others', async () => {
    const id = freshId();
    const { cursor } = await createEvent(h, id);
    const { requests, outcomes } = await holdMany(100, `/events/${id}/poll?cursor=${cursor}`);
    requests.forEach((req, i) => {
      if (i % 2 === 0) req.destroy();
    });
    await waitFor(() => h.hub.heldPolls === 50, 'the aborted half to be dropped');
    await postScore(h, id, { data: { n: 1 } });
    const results = await outcomes;
    expect(results.filter((o) => o === 'aborted')).to.have.length(50);
    expect(results.filter((o) => o === 'answered 200')).to.have.length(50);
    expect(h.hub.heldPolls).to.equal(0);
  });
});
