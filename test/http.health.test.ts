import { expect } from 'chai';
import { createEvent, freshId, startHarness, waitFor, type Harness } from './support/harness.js';
import { METRICS_AUTH, TEST_STORE } from './support/server.js';

/** The value of the holdline_held_polls gauge in a Prometheus exposition. */
function heldGauge(text: string): number {
  const m = /^holdline_held_polls (\d+(?:\.\d+)?)$/m.exec(text);
  if (!m) throw new Error('holdline_held_polls is missing from /metrics');
  return Number(m[1]);
}

describe('operations endpoints', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });

  describe('GET /healthz', () => {
    it('answers 200 while the process runs', async () => {
      const res = await h.http().get('/healthz');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
    });
  });

  describe('GET /readyz', () => {
    it('answers 200 once the store answers', async () => {
      const res = await h.http().get('/readyz');
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ status: 'ready', store: TEST_STORE });
    });
  });

  describe('GET /metrics', () => {
    it('is Prometheus text with the holdline_held_polls gauge', async () => {
      const res = await h.http().get('/metrics').set(METRICS_AUTH);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/plain/);
      expect(res.text).to.include('# TYPE holdline_held_polls gauge');
      expect(heldGauge(res.text)).to.equal(0);
    });

    it('counts polls while they are held and drops back to 0 when they are answered', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const held = [1, 2, 3].map(() => h.http().get(`/events/${id}/poll?cursor=${cursor}`).then((r) => r));
      await waitFor(() => h.hub.heldPolls === 3, 'three held polls');
      expect(heldGauge((await h.http().get('/metrics').set(METRICS_AUTH)).text)).to.equal(3);
      await h.http().post(`/events/${id}/scores`).set('Authorization', `Bearer ${h.adminToken}`).send({ data: { n: 1 } }).expect(201);
      for (const res of await Promise.all(held)) expect(res.body.deltas).to.have.length(1);
      expect(heldGauge((await h.http().get('/metrics').set(METRICS_AUTH)).text)).to.equal(0);
    });
  });
});
