import { expect } from 'chai';
import { cursorAt, epochOf } from './support/cursors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Response } from 'supertest';
import type { MultiPollAnswer, PollAnswer, PollErrorEntry } from '../lib/protocol.js';
import {
  createEvent,
  expectError,
  freshId,
  poll,
  postNotice,
  postScore,
  sleep,
  startHarness,
  waitFor,
  type Harness,
} from './support/harness.js';

/** Small bounds so batching, the ring and the hold clamp are cheap to reach. */
const SETTINGS = { HOLD_TIMEOUT_MS: '2000', MAX_HOLD_MS: '3000', RING_SIZE: '8', MAX_BATCH: '3', MAX_SUBS: '4' };

describe('long polling over HTTP', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(SETTINGS);
  });
  after(async () => {
    await h.close();
  });
  const admin = () => `Bearer ${h.adminToken}`;

  /** Starts a request that may be held; `settled()` tells whether its answer has come. */
  function hold(path: string, init: (req: ReturnType<Harness['http']>) => PromiseLike<Response> = (r) => r.get(path)) {
    let settled = false;
    const answer = Promise.resolve(init(h.http())).then((res) => {
      settled = true;
      return res;
    });
    return { answer, settled: () => settled };
  }

  /** Waits until `n` polls are held by the hub. */
  const heldReach = (n: number) => waitFor(() => h.hub.heldPolls === n, `${n} held polls`);


  afterEach(async () => {
    // Nothing a test started may stay held into the next one: time every leftover hold out.
    h.clock.advance(4000);
    await waitFor(() => h.hub.heldPolls === 0, 'leftover holds to end');
  });

  describe('GET /events/:eventId/poll', () => {
    it('writes a publish\'s 201 before the answers of the polls it wakes (docs/PROTOCOL.md)', async () => {
      const id = freshId();
      await createEvent(h, id, { state: 'live' });
      const { cursor } = await postScore(h, id, { data: { home: 0 } });
      // Each response's first write, in the order the server makes them.
      const order: string[] = [];
      const record = (req: IncomingMessage, res: ServerResponse): void => {
        const end = res.end;
        res.end = function (this: ServerResponse, ...args: Parameters<ServerResponse['end']>) {
          order.push(req.method === 'POST' ? 'publish' : 'answer');
          return end.apply(this, args);
        } as ServerResponse['end'];
      };
      const server = h.service.server;
      server.prependListener('request', record);
      try {
        const held = [hold(`/events/${id}/poll?cursor=${cursor}`), hold(`/events/${id}/poll?cursor=${cursor}&viewer=second`)];
        await heldReach(2);
        await postScore(h, id, { data: { home: 1 } });
        await Promise.all(held.map((x) => x.answer));
      } finally {
        server.off('request', record);
      }
      expect(order).to.deep.equal(['publish', 'answer', 'answer']);
    });

    it('answers a poll without a cursor at once with the snapshot and the head cursor', async () => {
      const id = freshId();
      await createEvent(h, id, { state: 'live' });
      const { cursor } = await postScore(h, id, { data: { home: 1 } });
      const res = await h.http().get(`/events/${id}/poll?cursor=`);
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body).to.include({ event: id, cursor, more: false, reset: false, ended: false });
      expect(res.body.deltas).to.deep.equal([]);
      expect(res.body.snapshot).to.include({ seq: 1, state: 'live' });
      expect(res.body.snapshot.score).to.deep.equal({ home: 1 });
    });

    it('answers a cursor behind the head at once with the deltas after it, oldest first', async () => {
      const id = freshId();
      const { cursor: c0 } = await createEvent(h, id);
      const { cursor: c1 } = await postScore(h, id, { data: { n: 1 } });
      await postNotice(h, id, { title: 'two' });
      const { cursor: c3 } = await postScore(h, id, { data: { n: 3 } });
      const from0 = await poll(h, id, `cursor=${c0}`);
      expect(from0.status).to.equal(200);
      expect(from0.body.deltas.map((d) => d.seq)).to.deep.equal([1, 2, 3]);
      expect(from0.body).to.include({ cursor: c3, more: false, reset: false });
      expect(from0.body).to.not.have.property('snapshot');
      const from1 = await poll(h, id, `cursor=${c1}`);
      expect(from1.body.deltas.map((d) => [d.seq, d.kind])).to.deep.equal([[2, 'notice'], [3, 'score']]);
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('holds a poll at the head until a score arrives, then answers with it', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const held = hold(`/events/${id}/poll?cursor=${cursor}&viewer=ann`);
      await heldReach(1);
      expect(held.settled()).to.equal(false);
      expect((await h.http().get(`/events/${id}/presence`)).body.viewers).to.equal(1);
      const { cursor: next } = await postScore(h, id, { type: 'goal', data: { home: 1 } });
      const res = await held.answer;
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.body.cursor).to.equal(next);
      expect(res.body.deltas).to.have.length(1);
      expect(res.body.deltas[0]).to.deep.include({ seq: 1, kind: 'score', type: 'goal', data: { home: 1 } });
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('answers timeout=0 at once with no deltas and the same cursor', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const res = await poll(h, id, `cursor=${cursor}&timeout=0`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ cursor, more: false, reset: false, ended: false });
      expect(res.body.deltas).to.deep.equal([]);
    });

    it('holds for HOLD_TIMEOUT_MS by default, then answers with the same cursor', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const held = hold(`/events/${id}/poll?cursor=${cursor}`);
      await heldReach(1);
      h.clock.advance(1500);
      await sleep(30);
      expect(held.settled(), 'answered before HOLD_TIMEOUT_MS').to.equal(false);
      h.clock.advance(700);
      const res = await held.answer;
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ cursor });
      expect(res.body.deltas).to.deep.equal([]);
    });

    it('clamps a timeout above MAX_HOLD_MS to MAX_HOLD_MS', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const held = hold(`/events/${id}/poll?cursor=${cursor}&timeout=100`);
      await heldReach(1);
      h.clock.advance(2800);
      await sleep(30);
      expect(held.settled(), 'answered before MAX_HOLD_MS').to.equal(false);
      h.clock.advance(400);
      const res = await held.answer;
      expect(res.status).to.equal(200);
      expect(res.body.cursor).to.equal(cursor);
    });

    it('takes a fractional timeout in seconds', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const held = hold(`/events/${id}/poll?cursor=${cursor}&timeout=0.5`);
      await heldReach(1);
      h.clock.advance(700);
      expect((await held.answer).body.cursor).to.equal(cursor);
    });

    for (const bad of ['-1', 'abc', '1e3', 'Infinity', '', '5s']) {
      it(`refuses timeout=${JSON.stringify(bad)} with 400 naming timeout`, async () => {
        const id = freshId();
        const { cursor } = await createEvent(h, id);
        expectError(await h.http().get(`/events/${id}/poll?cursor=${cursor}&timeout=${encodeURIComponent(bad)}`), 400, 'invalid_request', 'timeout');
      });
    }

    it('answers at most MAX_BATCH deltas with more: true, and the rest on the next poll', async () => {
      const id = freshId();
      const { cursor: c0 } = await createEvent(h, id);
      for (let i = 1; i <= 5; i++) await postScore(h, id, { data: { n: i } });
      const first = await poll(h, id, `cursor=${c0}`);
      expect(first.body.deltas.map((d) => d.seq)).to.deep.equal([1, 2, 3]);
      expect(first.body.more).to.equal(true);
      expect(first.body.cursor).to.match(cursorAt(epochOf(c0), 3));
      const second = await poll(h, id, `cursor=${first.body.cursor}`);
      expect(second.body.deltas.map((d) => d.seq)).to.deep.equal([4, 5]);
      expect(second.body.more).to.equal(false);
    });

    it('resets with missed when the cursor is older than the ring holds', async () => {
      const id = freshId();
      const { cursor: c0 } = await createEvent(h, id);
      for (let i = 1; i <= 12; i++) await postScore(h, id, { op: 'patch', data: { [`k${i}`]: i } });
      const epoch = epochOf(c0);
      const reset = await poll(h, id, `cursor=${epoch}-3`);
      expect(reset.status).to.equal(200);
      expect(reset.body).to.include({ reset: true, missed: 9, more: false });
      expect(reset.body.cursor).to.match(cursorAt(epoch, 12));
      expect(reset.body.deltas).to.deep.equal([]);
      expect(reset.body.snapshot?.seq).to.equal(12);
      expect(Object.keys(reset.body.snapshot?.score ?? {})).to.have.length(12);
      // The oldest cursor the ring still serves (seq 4: the ring holds 5..12) is not a reset.
      const kept = await poll(h, id, `cursor=${epoch}-4`);
      expect(kept.body.reset).to.equal(false);
      expect(kept.body.deltas.map((d) => d.seq)).to.deep.equal([5, 6, 7]);
    });

    it('resets with missed null for a cursor of another epoch, whatever its seq', async () => {
      const id = freshId();
      await createEvent(h, id);
      await postScore(h, id, { data: { n: 1 } });
      const res = await poll(h, id, 'cursor=zzzz-999');
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ reset: true, missed: null });
      expect(res.body.snapshot?.score).to.deep.equal({ n: 1 });
    });

    it('refuses a malformed cursor with 400 invalid_cursor', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      for (const bad of ['nope', 'ABC-1', 'abc-', 'abc-1-2', `${epochOf(cursor)}-1.5`, `${epochOf(cursor)}-1.XYZ`]) {
        expectError(await h.http().get(`/events/${id}/poll?cursor=${encodeURIComponent(bad)}`), 400, 'invalid_cursor', 'cursor');
      }
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('resets a cursor ahead of the head (the log went back, or it was never ours) with a fresh snapshot, missed null', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      await postScore(h, id, { data: { home: 1 } });
      for (const ahead of [`${epochOf(cursor)}-7`, `${epochOf(cursor)}-7.0a0b0c0d`]) {
        const res = await poll(h, id, `cursor=${ahead}`);
        expect(res.status).to.equal(200);
        expect(res.body).to.include({ reset: true, missed: null });
        expect(res.body.snapshot?.score).to.deep.equal({ home: 1 });
        expect(res.body.cursor).to.match(cursorAt(epochOf(cursor), 1));
      }
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('does not wake a kinds=notice poll for a score, but answers it the next notice', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const notices = hold(`/events/${id}/poll?cursor=${cursor}&kinds=notice`);
      await heldReach(1);
      const everything = hold(`/events/${id}/poll?cursor=${cursor}`);
      await heldReach(2);
      await postScore(h, id, { data: { home: 1 } });
      // Both holds were woken by the same read; the unfiltered one answering means the filtered one was looked at.
      expect((await everything.answer).body.deltas).to.have.length(1);
      await sleep(30);
      expect(notices.settled(), 'woken by a score it filters out').to.equal(false);
      expect(h.hub.heldPolls).to.equal(1);
      const { cursor: noticeCursor } = await postNotice(h, id, { title: 'Half time' });
      const res = await notices.answer;
      expect(res.body.deltas.map((d: { seq: number; kind: string }) => [d.seq, d.kind])).to.deep.equal([[2, 'notice']]);
      expect(res.body.cursor).to.equal(noticeCursor);
    });

    it('moves the cursor of a filtered poll past what it skipped when the hold times out', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const notices = hold(`/events/${id}/poll?cursor=${cursor}&kinds=notice`);
      await heldReach(1);
      const { cursor: scoreCursor } = await postScore(h, id, { data: { home: 1 } });
      await postScore(h, id, { data: { home: 2 } });
      await sleep(30);
      expect(notices.settled()).to.equal(false);
      h.clock.advance(2500);
      const res = await notices.answer;
      expect(res.body.deltas).to.deep.equal([]);
      expect(res.body.cursor).to.match(cursorAt(epochOf(scoreCursor), 2));
      // A poll behind the head that only skips filtered deltas is held too, then times out past them.
      const behind = hold(`/events/${id}/poll?cursor=${cursor}&kinds=notice`);
      await heldReach(1);
      h.clock.advance(2500);
      expect((await behind.answer).body.cursor).to.match(cursorAt(epochOf(scoreCursor), 2));
    });

    it('narrows score and notice deltas to the given types but lets status through', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      await postScore(h, id, { type: 'corner', data: { c: 1 } });
      await postScore(h, id, { type: 'goal', data: { g: 1 } });
      await postNotice(h, id, { title: 'untyped' });
      await postNotice(h, id, { type: 'goal', title: 'GOAL' });
      await h.http().put(`/events/${id}`).set('Authorization', admin()).send({ state: 'live' }).expect(200);
      /** Every delta the filter lets through, following `more` across batches of MAX_BATCH (3). */
      const drain = async (filter: string): Promise<{ seen: Array<[number, string]>; cursor: string }> => {
        const seen: Array<[number, string]> = [];
        let at = cursor;
        for (;;) {
          const res = await poll(h, id, `cursor=${at}&timeout=0&${filter}`);
          expect(res.status).to.equal(200);
          seen.push(...res.body.deltas.map((d): [number, string] => [d.seq, d.kind]));
          at = res.body.cursor;
          if (!res.body.more) return { seen, cursor: at };
        }
      };
      expect((await drain('types=goal')).seen).to.deep.equal([[2, 'score'], [4, 'notice'], [5, 'status']]);
      const both = await drain('types=goal&kinds=score');
      expect(both.seen).to.deep.equal([[2, 'score']]);
      expect(both.cursor).to.match(cursorAt(epochOf(cursor), 5));
    });

    it('refuses unknown kinds and malformed types naming the parameter', async () => {
      const id = freshId();
      await createEvent(h, id);
      expectError(await h.http().get(`/events/${id}/poll?kinds=score,gossip`), 400, 'invalid_request', 'kinds');
      expectError(await h.http().get(`/events/${id}/poll?types=a%20b`), 400, 'invalid_request', 'types');
    });

    it('answers at once with ended: true at the head of an ended event', async () => {
      const id = freshId();
      await createEvent(h, id);
      const { cursor } = (await h.http().post(`/events/${id}/end`).set('Authorization', admin()).expect(200)).body as { cursor: string };
      const res = await poll(h, id, `cursor=${cursor}&timeout=30`);
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ cursor, ended: true, reset: false });
      expect(res.body.deltas).to.deep.equal([]);
      const join = await poll(h, id, '');
      expect(join.body.ended).to.equal(true);
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('answers a held kinds=score poll when the event ends, with ended: true', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id, { state: 'live' });
      const scores = hold(`/events/${id}/poll?cursor=${cursor}&kinds=score`);
      await heldReach(1);
      const { cursor: endCursor } = (await h.http().post(`/events/${id}/end`).set('Authorization', admin()).expect(200)).body as { cursor: string };
      const res = await scores.answer;
      expect(res.status).to.equal(200);
      expect(res.body).to.include({ ended: true, cursor: endCursor });
      expect(res.body.deltas).to.deep.equal([]);
    });

    it('holds a poll with a viewer id and counts it in presence while held', async () => {
      const id = freshId();
      const { cursor } = await createEvent(h, id);
      const held = hold(`/events/${id}/poll?cursor=${cursor}&viewer=watcher`);
      await heldReach(1);
      const members = await h.http().get(`/events/${id}/presence?members=1`).set('Authorization', admin());
      expect(members.body.members).to.deep.equal(['~watcher']);
      await postScore(h, id, { data: {} });
      expect((await held.answer).body.viewers).to.equal(1);
    });
  });

  describe('GET /poll and POST /poll (several events)', () => {
    async function twoEvents(): Promise<{ a: string; b: string; ca: string; cb: string }> {
      const a = freshId('a');
      const b = freshId('b');
      const { cursor: ca } = await createEvent(h, a);
      const { cursor: cb } = await createEvent(h, b);
      return { a, b, ca, cb };
    }

    it('holds GET /poll until the second event has news, then answers every event in subs order', async () => {
      const { a, b, ca, cb } = await twoEvents();
      const held = hold(`/poll?subs=${a}@${ca},${b}@${cb}`);
      await heldReach(1);
      expect(held.settled()).to.equal(false);
      const { cursor: next } = await postScore(h, b, { data: { b: 1 } });
      const res = await held.answer;
      expect(res.status).to.equal(200);
      expect(res.headers['cache-control']).to.equal('no-store');
      const { results } = res.body as MultiPollAnswer;
      expect(results.map((r) => r.event)).to.deep.equal([a, b]);
      const [ra, rb] = results as [PollAnswer, PollAnswer];
      expect(ra).to.include({ cursor: ca, reset: false });
      expect(ra.deltas).to.deep.equal([]);
      expect(rb.cursor).to.equal(next);
      expect(rb.deltas.map((d) => d.seq)).to.deep.equal([1]);
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('holds POST /poll with {"subs": {...}} and wakes on the second event', async () => {
      const { a, b, ca, cb } = await twoEvents();
      const held = hold('/poll', (r) => r.post('/poll').send({ subs: { [a]: ca, [b]: cb } }));
      await heldReach(1);
      await postNotice(h, b, { title: 'news' });
      const { results } = (await held.answer).body as MultiPollAnswer;
      const [ra, rb] = results as [PollAnswer, PollAnswer];
      expect(ra.cursor).to.equal(ca);
      expect(rb.deltas.map((d) => d.kind)).to.deep.equal(['notice']);
    });

    it('answers at once when one event has no cursor (a join) or is behind', async () => {
      const { a, b, ca } = await twoEvents();
      const join = await h.http().get(`/poll?subs=${a}@${ca},${b}`);
      expect(join.status).to.equal(200);
      const [ra, rb] = (join.body as MultiPollAnswer).results as [PollAnswer, PollAnswer];
      expect(ra.cursor).to.equal(ca);
      expect(rb.snapshot).to.include({ seq: 0 });
      const posted = await h.http().post('/poll').send({ subs: { [a]: ca, [b]: null } });
      expect(((posted.body as MultiPollAnswer).results[1] as PollAnswer).snapshot).to.include({ seq: 0 });
    });

    it('answers per-event errors for an unknown event and a bad cursor without failing the others', async () => {
      const { a, b, ca } = await twoEvents();
      const missing = freshId('missing');
      const res = await h.http().get(`/poll?subs=${a}@${ca},${missing},${b}@garbage&timeout=30`);
      expect(res.status).to.equal(200);
      const [ra, rm, rb] = (res.body as MultiPollAnswer).results as [PollAnswer, PollErrorEntry, PollErrorEntry];
      expect(ra).to.include({ event: a, cursor: ca });
      expect(rm).to.deep.include({ event: missing, status: 404 });
      expect(rm.error.code).to.equal('not_found');
      expect(rb).to.deep.include({ event: b, status: 400 });
      expect(rb.error.code).to.equal('invalid_cursor');
      expect(h.hub.heldPolls).to.equal(0);
    });

    it('answers a private event it may not read as a per-event 401 entry', async () => {
      const { a, ca } = await twoEvents();
      const secret = freshId('private');
      await createEvent(h, secret, { visibility: 'private' });
      const res = await h.http().get(`/poll?subs=${a}@${ca},${secret}`);
      expect(res.status).to.equal(200);
      const entry = (res.body as MultiPollAnswer).results[1] as PollErrorEntry;
      expect(entry).to.deep.include({ event: secret, status: 401 });
      expect(entry.error.code).to.equal('unauthorized');
    });

    it('refuses more than MAX_SUBS events, the same event twice, and no subs with 400 naming subs', async () => {
      const ids = ['s1', 's2', 's3', 's4', 's5'];
      expectError(await h.http().get(`/poll?subs=${ids.join(',')}`), 400, 'invalid_request', 'subs');
      expectError(await h.http().post('/poll').send({ subs: Object.fromEntries(ids.map((i) => [i, null])) }), 400, 'invalid_request', 'subs');
      expectError(await h.http().get('/poll?subs=s1,s2,s1@abc-1'), 400, 'invalid_request', 'subs');
      expectError(await h.http().get('/poll'), 400, 'invalid_request', 'subs');
      expectError(await h.http().get('/poll?subs='), 400, 'invalid_request', 'subs');
      expectError(await h.http().get('/poll?subs=ok,-bad'), 400, 'invalid_request', 'subs');
      expectError(await h.http().post('/poll').send({ subs: { a: 1 } }), 400, 'invalid_request', 'subs.a');
      expectError(await h.http().post('/poll').send({ events: {} }), 400, 'invalid_request', 'body');
    });

    it('times out a multi-event hold with every cursor unchanged', async () => {
      const { a, b, ca, cb } = await twoEvents();
      const held = hold(`/poll?subs=${a}@${ca},${b}@${cb}&timeout=1`);
      await heldReach(1);
      h.clock.advance(1200);
      const { results } = (await held.answer).body as MultiPollAnswer;
      expect(results.map((r) => (r as PollAnswer).cursor)).to.deep.equal([ca, cb]);
    });
  });
});
