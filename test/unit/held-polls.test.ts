import { expect } from 'chai';
import { AddressCap } from '../../lib/poll/address-cap.js';
import type { Principal } from '../../lib/model/access.js';
import { FakeClock } from '../../lib/util/clock.js';
import { ALL } from '../../lib/poll/filter.js';
import { HeldPolls, Hold } from '../../lib/poll/held-polls.js';
import { HoldTimers, UNARMED, type Timed } from '../../lib/poll/hold-timers.js';
import type { PollRequest, PollSink } from '../../lib/poll/reader.js';

const sink: PollSink = { answer: () => undefined, fail: () => undefined };
const dropper = { drop: () => undefined };
let order = 0;

/** A hold of `viewer` on `events`, parked-ready (its subs set at cursor seq 1). */
function hold(events: string[], viewer: string | null, o: { address?: string; sub?: string } = {}): Hold {
  const principal: Principal | null = o.sub ? { sub: o.sub, name: null, scopes: new Set(), events: null, expiresAt: null } : null;
  const req: PollRequest = {
    subs: events.map((eventId) => ({ eventId, cursor: 'e-1' })),
    viewer, holdMs: 25_000, filter: ALL, principal, multi: events.length > 1, address: o.address ?? '10.0.0.1',
  };
  const h = new Hold(dropper, req, sink, ++order);
  h.subs = events.map((eventId) => ({ hold: h, eventId, epoch: 'e', seq: 1, tag: '00000000' }));
  return h;
}

class Item implements Timed {
  timerTick = UNARMED.timerTick;
  timerPrev: Timed | null = null;
  timerNext: Timed | null = null;
  constructor(readonly name: string) {}
}

describe('HoldTimers (the one timer wheel)', () => {
  it('expires items in one batch per sweep, each once, at most one tick late', () => {
    const clock = new FakeClock(0);
    const expired: string[][] = [];
    const timers = new HoldTimers<Item>(clock, 100, (items) => expired.push(items.map((i) => i.name).sort()));
    const [a, b, c] = [new Item('a'), new Item('b'), new Item('c')];
    timers.add(a, 250);
    timers.add(b, 290);
    timers.add(c, 1000);
    expect(timers.size).to.equal(3);
    clock.advance(200);
    expect(expired).to.deep.equal([]);
    clock.advance(100);
    expect(expired).to.deep.equal([['a', 'b']]);
    clock.advance(1000);
    expect(expired).to.deep.equal([['a', 'b'], ['c']]);
    expect(timers.size).to.equal(0);
  });

  it('disarms from the head, the middle and the tail of a tick, and re-arms an armed item', () => {
    const clock = new FakeClock(0);
    const expired: string[] = [];
    const timers = new HoldTimers<Item>(clock, 100, (items) => expired.push(...items.map((i) => i.name)));
    const items = ['a', 'b', 'c', 'd', 'e'].map((n) => new Item(n));
    for (const i of items) timers.add(i, 500);
    timers.delete(items[4]!); // the list's head (added last)
    timers.delete(items[2]!); // the middle
    timers.delete(items[0]!); // the tail
    timers.delete(items[0]!); // twice: a no-op
    timers.add(items[1]!, 900); // re-armed later
    expect(timers.size).to.equal(2);
    clock.advance(600);
    expect(expired).to.deep.equal(['d']);
    clock.advance(400);
    expect(expired).to.deep.equal(['d', 'b']);
    expect(items.every((i) => i.timerTick === -1 && i.timerPrev === null && i.timerNext === null)).to.equal(true);
  });

  it('runs its interval only while something is armed', () => {
    const clock = new FakeClock(0);
    const timers = new HoldTimers<Item>(clock, 100, () => undefined);
    const a = new Item('a');
    expect(clock.activeTimers).to.equal(0);
    timers.add(a, 1000);
    expect(clock.activeTimers).to.equal(1);
    timers.delete(a);
    expect(clock.activeTimers).to.equal(0);
  });
});

describe('HeldPolls (the indexes of parked polls)', () => {
  it('indexes a hold by event, viewer, address and deadline, and forgets it on remove', () => {
    const clock = new FakeClock(0);
    const expired: Hold[][] = [];
    const parked = new HeldPolls(clock, 100, new AddressCap(0), (holds) => expired.push(holds));
    const h = hold(['m1', 'm2'], 'v1');
    parked.add(h, 25_000);
    expect(parked.size).to.equal(1);
    expect([...parked.subsOf('m1')!].map((s) => s.hold)).to.deep.equal([h]);
    expect(parked.holdsOf('m2', 'v1')).to.deep.equal([h]);
    expect(parked.all()).to.deep.equal([h]);
    parked.remove(h);
    parked.remove(h);
    expect(parked.size).to.equal(0);
    expect(parked.hasEvent('m1')).to.equal(false);
    expect(parked.holdsOf('m2', 'v1')).to.deep.equal([]);
    clock.advance(30_000);
    expect(expired).to.deep.equal([]);
    expect(clock.activeTimers).to.equal(0);
  });

  it('tells older and newer polls of one viewer apart, however many are parked', () => {
    const parked = new HeldPolls(new FakeClock(0), 100, new AddressCap(0), () => undefined);
    const [first, second, third] = [hold(['m1'], 'v1'), hold(['m1'], 'v1'), hold(['m1'], 'v1')];
    const otherViewer = hold(['m1'], 'v2');
    for (const h of [first, second, otherViewer]) parked.add(h, 25_000);
    expect(parked.olderThan(third)).to.deep.equal([first, second]);
    expect(parked.hasNewerThan(first)).to.equal(true);
    expect(parked.hasNewerThan(second)).to.equal(false);
    parked.remove(first);
    expect(parked.holdsOf('m1', 'v1')).to.deep.equal([second]);
    expect(parked.olderThan(third)).to.deep.equal([second]);
    parked.remove(second);
    expect(parked.olderThan(third)).to.deep.equal([]);
    expect(parked.holdsOf('m1', 'v2')).to.deep.equal([otherViewer]);
  });

  it('counts a claimed viewer id as the same viewer only from the same address, and never as a token sub', () => {
    const parked = new HeldPolls(new FakeClock(0), 100, new AddressCap(0), () => undefined);
    const here = hold(['m1'], 'v1', { address: '10.0.0.1' });
    const elsewhere = hold(['m1'], 'v1', { address: '10.0.0.2' });
    const signedIn = hold(['m1'], 'v1', { address: '10.0.0.1', sub: 'v1' });
    for (const h of [here, elsewhere, signedIn]) parked.add(h, 25_000);
    expect(parked.olderThan(hold(['m1'], 'v1', { address: '10.0.0.1' }))).to.deep.equal([here]);
    expect(parked.olderThan(hold(['m1'], 'v1', { address: '10.0.0.9', sub: 'v1' }))).to.deep.equal([signedIn]);
  });

  it('refuses a hold past the per-address cap until one ends', () => {
    const parked = new HeldPolls(new FakeClock(0), 100, new AddressCap(2), () => undefined);
    const [a, b, c] = [hold(['m1'], null), hold(['m1'], null), hold(['m1'], null)];
    parked.add(a, 25_000);
    parked.add(b, 25_000);
    expect(() => parked.assertRoom(c)).to.throw().with.property('code', 'rate_limited');
    expect(() => parked.assertRoom(hold(['m1'], null, { address: '10.0.0.3' }))).not.to.throw();
    parked.remove(a);
    expect(() => parked.assertRoom(c)).not.to.throw();
  });

  it('hands every hold whose deadline passed to onExpire in one sweep', () => {
    const clock = new FakeClock(0);
    const expired: Hold[][] = [];
    const parked = new HeldPolls(clock, 100, new AddressCap(0), (holds) => expired.push(holds));
    const [soon, alsoSoon, later] = [hold(['m1'], 'a'), hold(['m2'], 'b'), hold(['m1'], 'c')];
    parked.add(soon, 1000);
    parked.add(alsoSoon, 1000);
    parked.add(later, 5000);
    clock.advance(1100);
    expect(expired).to.have.length(1);
    expect(expired[0]!.map((h) => h.order).sort()).to.deep.equal([soon.order, alsoSoon.order].sort());
    expect(expired[0]).not.to.include(later);
  });
});
