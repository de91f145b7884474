import { expect } from 'chai';
import type { PollAnswer } from '../lib/protocol.js';
import { createEvent, freshId, postScore, startHarness, type Harness } from './support/harness.js';
import { TEST_STORE } from './support/server.js';
import { testPrefix } from './support/stores.js';
import { openSse, openWs } from './support/streams.js';

// One viewer moves poll → WebSocket → SSE → poll while a publisher keeps publishing: every delta
// arrives once, in order. On Redis each transport lands on another of two servers (no
// stickiness: a reconnect may land anywhere).

const TOTAL = 160;

describe('switching transports mid-stream', function () {
  this.timeout(60_000);
  const servers: Harness[] = [];
  before(async () => {
    const shared = TEST_STORE === 'redis' ? { REDIS_PREFIX: testPrefix() } : {};
    servers.push(await startHarness(shared));
    if (TEST_STORE === 'redis') servers.push(await startHarness(shared));
  });
  after(async () => {
    for (const h of servers) await h.close();
  });
  const server = (i: number) => servers[i % servers.length]!;

  it('poll → ws → sse → poll while publishing: zero loss, zero duplicates, in order', async () => {
    const id = freshId();
    await createEvent(server(0), id, { state: 'live' });
    const seen: number[] = [];
    let cursor = '';
    const take = (answer: PollAnswer) => {
      for (const d of answer.deltas) seen.push(d.seq);
      cursor = answer.cursor;
    };
    const last = () => seen.at(-1) ?? 0;

    // The publisher: one score after another, alternating servers, until TOTAL.
    let published = 0;
    const publishing = (async () => {
      while (published < TOTAL) {
        published += 1;
        await postScore(server(published), id, { data: { n: published } });
      }
    })();

    // 1. Long polling on server 0, from a join.
    const join = await fetch(`${server(0).url}/events/${id}/poll?viewer=switcher`).then((r) => r.json() as Promise<PollAnswer>);
    take(join);
    const joinedAt = join.snapshot!.seq;
    while (last() < 40) take(await fetch(`${server(0).url}/events/${id}/poll?viewer=switcher&cursor=${cursor}`).then((r) => r.json() as Promise<PollAnswer>));

    // 2. WebSocket on server 1, resumed by cursor.
    const ws = await openWs(`${server(1).url.replace('http', 'ws')}/realtime`);
    ws.send({ id: 'switcher', eventId: id, cursor });
    while (last() < 80) take(await ws.nextOf<PollAnswer>('answer'));
    ws.ws.terminate();

    // 3. SSE on server 0, resumed by Last-Event-ID (the id of the last event the socket delivered).
    const sse = await openSse(`${server(0).url}/events/${id}/stream?viewer=switcher`, { 'Last-Event-ID': cursor });
    while (last() < 120) {
      const { event, body } = await sse.json<PollAnswer>();
      take(body);
      expect(event.id).to.equal(body.cursor);
    }
    sse.close();

    // 4. Back to long polling on server 1 until the publisher is done.
    await publishing;
    while (last() < TOTAL) take(await fetch(`${server(1).url}/events/${id}/poll?viewer=switcher&cursor=${cursor}`).then((r) => r.json() as Promise<PollAnswer>));

    const expected = Array.from({ length: TOTAL - joinedAt }, (_, i) => joinedAt + 1 + i);
    expect(seen).to.deep.equal(expected);
  });
});
