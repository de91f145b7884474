import { expect } from 'chai';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { createEvent, freshId, postScore, startHarness, waitFor, type Harness } from './support/harness.js';

const VIEWERS = 1000;

/**
 * Issue 16: a publisher is never starved by the polls. With a thousand polls parked and their
 * re-polls pouring in, a publish reaches the store within a fixed few turns of the event loop
 * after it arrives, and its 201 is written before any answer of the polls it wakes.
 */
describe('publishing while a thousand polls are parked', function () {
  this.timeout(60_000);
  let h: Harness;
  const sockets: net.Socket[] = [];
  before(async () => {
    h = await startHarness({ HOLD_TIMEOUT_MS: '20000', MAX_HOLD_MS: '30000' });
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await h.close();
  });

  /** One viewer on one keep-alive socket: polls at `cursor`, and re-polls at once with each answer's cursor. */
  function viewer(id: string, event: string, cursor: string, seen: (n: number) => void): void {
    const socket = net.connect({ host: '127.0.0.1', port: Number(new URL(h.url).port) });
    sockets.push(socket);
    let buffered = '';
    let answers = 0;
    const send = (at: string): void => void socket.write(`GET /events/${event}/poll?cursor=${at}&viewer=${id} HTTP/1.1\r\nHost: x\r\n\r\n`);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (;;) {
        const head = buffered.indexOf('\r\n\r\n');
        if (head === -1) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, head))?.[1] ?? 0);
        if (buffered.length < head + 4 + length) return;
        const body = buffered.slice(head + 4, head + 4 + length);
        buffered = buffered.slice(head + 4 + length);
        answers += 1;
        seen(answers);
        send((JSON.parse(body) as { cursor: string }).cursor);
      }
    });
    send(cursor);
  }

  it('acknowledges each publish before any answer it wakes, within two loop turns of its arrival', async () => {
    const id = freshId();
    await createEvent(h, id, { state: 'live' });
    const { cursor } = await postScore(h, id, { data: { home: 0 } });
    let answered = 0;
    for (let i = 0; i < VIEWERS; i++) viewer(`v${i}`, id, cursor, () => void (answered += 1));
    await waitFor(() => h.hub.heldPolls === VIEWERS, `${VIEWERS} held polls`);

    // Event-loop turns, counted by a check-phase callback that schedules itself once per turn.
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns += 1;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const arrivedAt: number[] = [];
    const appendedAt: number[] = [];
    const order: string[] = [];
    const store = h.hub.store;
    const append = store.append.bind(store);
    store.append = (...args) => {
      appendedAt.push(turns);
      return append(...args);
    };
    const record = (req: IncomingMessage, res: ServerResponse): void => {
      const publish = req.method === 'POST';
      if (publish) arrivedAt.push(turns);
      const end = res.end;
      res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
        order.push(publish ? 'publish' : 'answer');
        return end.apply(this, args);
      } as ServerResponse['end'];
    };
    const server = h.service.server;
    server.prependListener('request', record);
    try {
      // The first publish wakes the thousand; the second comes while their re-polls pour in.
      await postScore(h, id, { data: { home: 1 } });
      await waitFor(() => answered >= VIEWERS / 2, 'half the answers');
      await postScore(h, id, { data: { home: 2 } });
      await waitFor(() => answered >= 2 * VIEWERS, 'every viewer answered twice');
    } finally {
      server.off('request', record);
      store.append = append;
      counting = false;
    }
    expect(arrivedAt).to.have.length(2);
    expect(appendedAt).to.have.length(2);
    for (let i = 0; i < 2; i++) {
      expect(appendedAt[i]! - arrivedAt[i]!, `turns between publish ${i + 1}'s arrival and its append`).to.be.at.most(2);
    }
    // Each publish's 201 is written before the answers it wakes: the first before all of them,
    // the second before any of the second thousand.
    expect(order.filter((x) => x === 'publish')).to.have.length(2);
    expect(order[0]).to.equal('publish');
    const second = order.lastIndexOf('publish');
    expect(order.slice(0, second).filter((x) => x === 'answer').length, 'answers written before the second 201').to.be.at.most(VIEWERS);
    expect(order.slice(second + 1).filter((x) => x === 'answer').length).to.be.at.least(VIEWERS);
  });
});
