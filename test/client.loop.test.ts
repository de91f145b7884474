import { expect } from 'chai';
import { FakeTimers, FakeTransport, loadHoldline, subsOf } from './support/holdline-vm.js';

const HL = loadHoldline();

function snapshot(seq: number, extra: Record<string, unknown> = {}) {
  return {
    seq,
    meta: { title: 'Final', sport: 'football', visibility: 'public' },
    state: 'live',
    score: { home: 0, away: 0 },
    chat: [],
    reactions: { totals: { '👍': 2 } },
    ...extra,
  };
}

function answer(event: string, cursor: string, fields: Record<string, unknown> = {}) {
  return { event, cursor, deltas: [], more: false, viewers: 3, reset: false, ended: false, ...fields };
}

function goal(seq: number, home: number) {
  return { seq, kind: 'score', ts: 1, op: 'patch', type: 'goal', data: { home } };
}

/** A client on fake timers and a fake transport, already started. */
function setup(options: Partial<Holdline.Options> = {}) {
  const timers = new FakeTimers();
  const transport = new FakeTransport();
  const client = HL.create({
    baseUrl: 'http://hub.test/',
    events: ['m1'],
    transport: transport.fn,
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    now: () => timers.now,
    random: () => 0.5,
    sameOrigin: false,
    document: null,
    window: null,
    ...options,
  });
  const seen: number[] = [];
  client.on('delta', (_id, d) => seen.push(d.seq));
  client.start();
  timers.advance(0);
  return { client, timers, transport, seen };
}

describe('holdline.js: the poll loop', () => {
  it('joins without a cursor, then polls with the cursor it was given', () => {
    const { client, timers, transport } = setup();
    expect(subsOf(transport.last.req.url)).to.equal('m1');
    expect(transport.last.req.url).to.match(/^http:\/\/hub\.test\/poll\?subs=m1&viewer=v-[a-z0-9]{12}&timeout=25$/);
    transport.last.respond(200, { results: [answer('m1', 'e1-4', { snapshot: snapshot(4) })] });
    expect(client.model('m1')?.score).to.deep.equal({ home: 0, away: 0 });
    expect(client.model('m1')?.viewers).to.equal(3);
    timers.advance(0);
    expect(subsOf(transport.last.req.url)).to.equal('m1@e1-4');
  });

  it('follows many events in one request and keeps each cursor', () => {
    const { client, timers, transport } = setup({ events: ['m1', 'm2'] });
    expect(subsOf(transport.last.req.url)).to.equal('m1,m2');
    transport.last.respond(200, {
      results: [answer('m1', 'a-1', { snapshot: snapshot(1) }), answer('m2', 'b-7', { snapshot: snapshot(7) })],
    });
    timers.advance(0);
    expect(subsOf(transport.last.req.url)).to.equal('m1@a-1,m2@b-7');
    transport.last.respond(200, { results: [answer('m1', 'a-2', { deltas: [goal(2, 1)] }), answer('m2', 'b-7')] });
    timers.advance(0);
    expect(subsOf(transport.last.req.url)).to.equal('m1@a-2,m2@b-7');
    expect(client.model('m1')?.score).to.deep.equal({ home: 1, away: 0 });
  });

  it('drops deltas whose seq it has already applied', () => {
    const { client, timers, transport, seen } = setup();
    transport.last.respond(200, { results: [answer('m1', 'e-1', { snapshot: snapshot(1) })] });
    timers.advance(0);
    transport.last.respond(200, { results: [answer('m1', 'e-3', { deltas: [goal(2, 1), goal(3, 2)] })] });
    timers.advance(0);
    transport.last.respond(200, { results: [answer('m1', 'e-4', { deltas: [goal(3, 2), goal(4, 3)] })] });
    expect(seen).to.deep.equal([2, 3, 4]);
    expect(client.stats.duplicates).to.equal(1);
    expect(client.model('m1')?.score).to.deep.equal({ home: 3, away: 0 });
  });

  it('applies a reset snapshot and then accepts seqs below the old ones', () => {
    const { client, timers, transport, seen } = setup();
    const resets: Array<{ reset: boolean; missed: number | null }> = [];
    client.on('snapshot', (_id, _m, info) => resets.push(info));
    transport.last.respond(200, { results: [answer('m1', 'old-9', { snapshot: snapshot(9, { score: { home: 5 } }) })] });
    timers.advance(0);
    // The server restarted: a new epoch whose log starts again at 1.
    transport.last.respond(200, {
      results: [answer('m1', 'new-0', { reset: true, missed: null, snapshot: snapshot(0, { score: {}, reactions: { totals: {} } }) })],
    });
    expect(client.model('m1')?.score).to.deep.equal({});
    expect(client.model('m1')?.reactions.totals).to.deep.equal({});
    timers.advance(0);
    expect(subsOf(transport.last.req.url)).to.equal('m1@new-0');
    transport.last.respond(200, { results: [answer('m1', 'new-1', { deltas: [goal(1, 1)] })] });
    expect(seen).to.deep.equal([1]);
    expect(resets).to.deep.equal([{ reset: false, missed: null }, { reset: true, missed: null }]);
    expect(client.stats.resets).to.equal(1);
  });

  it('folds chat, reactions and status deltas into the model', () => {
    const { client, timers, transport } = setup();
    transport.last.respond(200, { results: [answer('m1', 'e-0', { snapshot: snapshot(0) })] });
    timers.advance(0);
    transport.last.respond(200, {
      results: [answer('m1', 'e-4', {
        deltas: [
          { seq: 1, kind: 'chat', ts: 1, id: 'c1', user: { id: 'ann' }, text: 'hi' },
          { seq: 2, kind: 'reactions', ts: 1, counts: { '👍': 3, '🎉': 1 }, samples: [], window: { from: 0, to: 1 } },
          { seq: 3, kind: 'chat', ts: 1, op: 'delete', id: 'c1' },
          { seq: 4, kind: 'status', ts: 1, data: { state: 'ended' } },
        ],
      })],
    });
    const m = client.model('m1')!;
    expect(m.chat).to.deep.equal([]);
    expect(m.reactions.totals).to.deep.equal({ '👍': 5, '🎉': 1 });
    expect(m.state).to.equal('ended');
  });

  it('asks again for an event whose cursor was refused, with no cursor (a fresh snapshot)', () => {
    const { timers, transport } = setup();
    transport.last.respond(200, { results: [answer('m1', 'e-2', { snapshot: snapshot(2) })] });
    timers.advance(0);
    transport.last.respond(200, { results: [{ event: 'm1', status: 400, error: { code: 'invalid_cursor', message: 'x' } }] });
    timers.advance(0);
    expect(subsOf(transport.last.req.url)).to.equal('m1');
  });

  it('leaves an unknown event out of the poll for a backoff step while following the others', () => {
    const { timers, transport } = setup({ events: ['gone', 'm2'] });
    transport.last.respond(200, {
      results: [{ event: 'gone', status: 404, error: { code: 'not_found', message: 'no' } }, answer('m2', 'b-1', { snapshot: snapshot(1) })],
    });
    timers.advance(0);
    expect(subsOf(transport.last.req.url)).to.equal('m2@b-1');
    const held = transport.last;
    timers.advance(750); // random 0.5 of the first 1 s step
    expect(held.aborted).to.equal(true);
    expect(subsOf(transport.last.req.url)).to.equal('gone,m2@b-1');
  });

  it('waits the retryMs a draining server advises before polling again', () => {
    const { timers, transport } = setup();
    transport.last.respond(200, { results: [answer('m1', 'e-2', { snapshot: snapshot(2) })] });
    timers.advance(0);
    const before = transport.sent.length;
    transport.last.respond(200, { results: [answer('m1', 'e-2', { advice: { timeoutMs: 25000, retryMs: 640 } })] });
    timers.advance(639);
    expect(transport.sent.length).to.equal(before);
    timers.advance(1);
    expect(transport.sent.length).to.equal(before + 1);
    expect(subsOf(transport.last.req.url)).to.equal('m1@e-2');
  });

  it('gives up on a poll held longer than its hold plus ten seconds: a cut, retried at once with a shorter hold', () => {
    const { client, timers, transport } = setup();
    transport.last.respond(200, { results: [answer('m1', 'e-2', { snapshot: snapshot(2) })] });
    timers.advance(0);
    const held = transport.last;
    timers.advance(35_000);
    expect(held.aborted).to.equal(true);
    expect(transport.last).to.not.equal(held);
    expect(new URL(transport.last.req.url).searchParams.get('timeout')).to.equal('20');
    expect(client.state).to.equal('live');
    expect(timers.pending()).to.deep.equal([30_000]);
  });

  it('looks at an ended event again only after endedRecheckMs', () => {
    const { timers, transport } = setup({ endedRecheckMs: 60_000 });
    transport.last.respond(200, { results: [answer('m1', 'e-2', { ended: true, snapshot: snapshot(2, { state: 'ended' }) })] });
    timers.advance(0);
    expect(timers.pending()).to.deep.equal([60_000]);
  });
});
