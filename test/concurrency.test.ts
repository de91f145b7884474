import { expect } from 'chai';
import { seqOf } from './support/cursors.js';
import http from 'node:http';
import type { MultiPollAnswer, PollAnswer } from '../lib/protocol.js';
import { inParallel, requestJson } from './support/client.js';
import { createEvent, freshId, startHarness, waitFor, type Harness } from './support/harness.js';

/**
 * Many pollers re-polling with the cursor each answer gave them while deltas are published
 * several at a time: nobody may miss, repeat or reorder a delta. The FakeClock never moves, so
 * every answer is news (no timeouts muddy the count).
 */
describe('concurrent polling while publishing', function () {
  this.timeout(180_000);

  let h: Harness;
  let agent: http.Agent;
  before(async () => {
    h = await startHarness();
    agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  });
  after(async () => {
    agent.destroy();
    await h.close();
  });

  /** Publishes `count` scores to the events in turn, `width` requests in flight at once. */
  async function publish(events: string[], count: number, width: number): Promise<void> {
    await inParallel(count, width, async (i) => {
      const id = events[i % events.length]!;
      const res = await requestJson(`${h.url}/events/${id}/scores`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.adminToken}` },
        body: { op: 'patch', data: { [`k${i}`]: i } },
        agent,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
    });
  }

  it('delivers every seq exactly once and in order to each of 50 pollers while 500 deltas are published', async () => {
    const POLLERS = 50;
    const DELTAS = 500;
    const id = freshId('busy');
    const { cursor: start } = await createEvent(h, id, { state: 'live' });

    const seen: number[][] = Array.from({ length: POLLERS }, () => []);
    const pollers = seen.map(async (mine, p) => {
      let cursor = start;
      while (mine.length < DELTAS) {
        const res = await requestJson(`${h.url}/events/${id}/poll?cursor=${cursor}&viewer=p${p}`, { agent });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        const answer = res.body as PollAnswer;
        expect(answer.reset, 'reset').to.equal(false);
        for (const d of answer.deltas) mine.push(d.seq);
        cursor = answer.cursor;
        const last = mine[mine.length - 1];
        if (last !== undefined) expect(seqOf(cursor), 'cursor names the last delta').to.equal(last);
      }
    });
    // Publishing starts once every poller is parked, and keeps going while they cycle.
    await waitFor(() => h.hub.heldPolls === POLLERS, 'every poller to be held');
    await publish([id], DELTAS, 8);
    await Promise.all(pollers);

    const expected = Array.from({ length: DELTAS }, (_, i) => i + 1);
    for (let p = 0; p < POLLERS; p++) expect(seen[p], `poller ${p}`).to.deep.equal(expected);
    expect(h.hub.heldPolls).to.equal(0);
  });

  it('delivers every seq of every event exactly once and in order through GET /poll', async () => {
    const POLLERS = 20;
    const PER_EVENT = 100;
    const events = [freshId('multi-a'), freshId('multi-b'), freshId('multi-c')];
    const starts: Record<string, string> = {};
    for (const id of events) starts[id] = (await createEvent(h, id)).cursor;

    const seen: Array<Record<string, number[]>> = Array.from({ length: POLLERS }, () => Object.fromEntries(events.map((e) => [e, []])));
    const done = (mine: Record<string, number[]>) => events.every((e) => mine[e]!.length >= PER_EVENT);
    const pollers = seen.map(async (mine, p) => {
      const cursors = { ...starts };
      while (!done(mine)) {
        const subs = events.map((e) => `${e}@${cursors[e]}`).join(',');
        const res = await requestJson(`${h.url}/poll?subs=${subs}&viewer=m${p}`, { agent });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        const { results } = res.body as MultiPollAnswer;
        expect(results.map((r) => r.event)).to.deep.equal(events);
        for (const r of results as PollAnswer[]) {
          expect(r.reset, 'reset').to.equal(false);
          for (const d of r.deltas) mine[r.event]!.push(d.seq);
          cursors[r.event] = r.cursor;
        }
      }
    });
    await waitFor(() => h.hub.heldPolls === POLLERS, 'every poller to be held');
    await publish(events, PER_EVENT * events.length, 6);
    await Promise.all(pollers);

    const expected = Array.from({ length: PER_EVENT }, (_, i) => i + 1);
    for (let p = 0; p < POLLERS; p++) for (const e of events) expect(seen[p]![e], `poller ${p}, ${e}`).to.deep.equal(expected);
    expect(h.hub.heldPolls).to.equal(0);
  });
});
