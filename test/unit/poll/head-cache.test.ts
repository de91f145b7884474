import { expect } from 'chai';
import type { EventRecord } from '../../../lib/model/records.js';
import { HeadCache } from '../../../lib/poll/head-cache.js';
import type { KeptAnswer } from '../../../lib/poll/reader.js';
import { FakeClock } from '../../../lib/util/clock.js';

const record = (head: number): EventRecord => ({
  id: 'e1', epoch: 'ep', meta: { title: 't', sport: 's', visibility: 'public' }, state: 'live', head, tag: '00000000', lastVersion: null, createdAt: 0,
});
const kept = (body: string): KeptAnswer => ({ record: record(1), outcome: { kind: 'answer', body, why: 'delta', entries: [] } });

describe('HeadCache (lib/poll/head-cache.ts)', () => {
  const make = (clock = new FakeClock()) => ({ clock, heads: new HeadCache(clock, { keptBytes: 64 * 1024, keptTtlMs: 1000 }) });

  it('knows a record while its event has not changed since the read began, and not after', () => {
    const { heads } = make();
    expect(heads.get('e1')).to.equal(null);
    const mark = heads.mark('e1');
    heads.set('e1', record(3), mark);
    expect(heads.get('e1')?.head).to.equal(3);
    heads.changed('e1');
    expect(heads.get('e1'), 'a change announced since').to.equal(null);
    expect(heads.get('e2')).to.equal(null);
  });

  it('never serves a record read before a change that came during the read', () => {
    const { heads } = make();
    const mark = heads.mark('e1');
    heads.changed('e1');
    heads.set('e1', record(3), mark);
    expect(heads.get('e1')).to.equal(null);
  });

  it('keeps a newer read over an older one that finishes later', () => {
    const { heads } = make();
    const older = heads.mark('e1');
    heads.changed('e1');
    const newer = heads.mark('e1');
    heads.set('e1', record(5), newer);
    heads.set('e1', record(4), older);
    expect(heads.get('e1')?.head).to.equal(5);
  });

  it('forgets a deleted event', () => {
    const { heads } = make();
    heads.set('e1', record(2), heads.mark('e1'));
    heads.forget('e1');
    expect(heads.get('e1')).to.equal(null);
  });

  it('serves a kept answer until the event changes or its TTL passes, per event and key', () => {
    const { heads, clock } = make();
    heads.keep('e1', 'k', heads.mark('e1'), kept('{"a":1}'));
    expect(heads.answer('e1', 'k')?.outcome.body).to.equal('{"a":1}');
    expect(heads.answer('e1', 'other')).to.equal(null);
    expect(heads.answer('e2', 'k')).to.equal(null);
    clock.advance(1001);
    expect(heads.answer('e1', 'k'), 'past its TTL').to.equal(null);
    heads.keep('e1', 'k', heads.mark('e1'), kept('{"a":2}'));
    heads.changed('e1');
    expect(heads.answer('e1', 'k'), 'after a change').to.equal(null);
  });

  it('does not keep an answer made from a read that a change overtook', () => {
    const { heads } = make();
    const mark = heads.mark('e1');
    heads.changed('e1');
    heads.keep('e1', 'k', mark, kept('{"stale":true}'));
    expect(heads.answer('e1', 'k')).to.equal(null);
  });

  it('is bounded by bytes: one answer larger than a sixteenth of the budget is not kept', () => {
    const { heads } = make();
    heads.keep('e1', 'big', heads.mark('e1'), kept('x'.repeat(2000)));
    expect(heads.answer('e1', 'big')).to.equal(null);
    heads.keep('e1', 'small', heads.mark('e1'), kept('x'.repeat(100)));
    expect(heads.answer('e1', 'small')).to.not.equal(null);
  });

  it('shares a read begun since the last change with every cursor at or above where it starts', async () => {
    const { heads } = make();
    const read = Promise.resolve(null);
    heads.shareRead('e1', heads.mark('e1'), 5, read);
    expect(heads.readFrom('e1', 5)).to.equal(read);
    expect(heads.readFrom('e1', 9)).to.equal(read);
    expect(heads.readFrom('e1', 4), 'a cursor below the read').to.equal(null);
    const lower = Promise.resolve(null);
    heads.shareRead('e1', heads.mark('e1'), 2, lower);
    expect(heads.readFrom('e1', 4), 'a read from lower replaces it').to.equal(lower);
    heads.changed('e1');
    expect(heads.readFrom('e1', 9), 'after a change').to.equal(null);
    heads.shareRead('e1', heads.mark('e1') - 1, 0, read);
    expect(heads.readFrom('e1', 9), 'a read a change overtook is not shared').to.equal(null);
  });

  it('does not share a failed read', async () => {
    const { heads } = make();
    const failed = Promise.reject(new Error('down'));
    failed.catch(() => undefined);
    heads.shareRead('e1', heads.mark('e1'), 0, failed);
    await new Promise((r) => setImmediate(r));
    expect(heads.readFrom('e1', 3)).to.equal(null);
  });

  it('counts presence once per change (and per TTL), and tries again after a failed count', async () => {
    const { heads, clock } = make();
    let counted = 0;
    const count = () => Promise.resolve(++counted);
    expect(await heads.viewers('e1', count)).to.equal(1);
    expect(await heads.viewers('e1', count)).to.equal(1);
    heads.changed('e1');
    expect(await heads.viewers('e1', count)).to.equal(2);
    clock.advance(1001);
    expect(await heads.viewers('e1', count)).to.equal(3);
    heads.changed('e1');
    const failing = heads.viewers('e1', () => Promise.reject(new Error('down')));
    await failing.catch(() => undefined);
    expect(await heads.viewers('e1', count)).to.equal(4);
  });

  it('forgets what a deleted event shared', () => {
    const { heads } = make();
    heads.shareRead('e1', heads.mark('e1'), 0, Promise.resolve(null));
    heads.forget('e1');
    expect(heads.readFrom('e1', 1)).to.equal(null);
  });
});
