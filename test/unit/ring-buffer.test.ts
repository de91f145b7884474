import { expect } from 'chai';
import { RingBuffer } from '../../lib/store/memory/ring-buffer.js';

describe('RingBuffer', () => {
  it('numbers items with contiguous seqs from 1', () => {
    const ring = new RingBuffer<string>(4);
    expect([ring.push('a'), ring.push('b'), ring.push('c')]).to.deep.equal([1, 2, 3]);
    expect(ring.head).to.equal(3);
    expect(ring.oldest).to.equal(1);
    expect(ring.after(0, 10)).to.deep.equal(['a', 'b', 'c']);
  });

  it('drops the oldest items past its capacity', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.size).to.equal(3);
    expect(ring.oldest).to.equal(5);
    expect(ring.get(4)).to.equal(undefined);
    expect(ring.get(5)).to.equal(5);
    expect(ring.after(0, 10)).to.deep.equal([5, 6, 7]);
  });

  it('reads after a seq with a limit', () => {
    const ring = new RingBuffer<number>(10);
    for (let i = 1; i <= 8; i++) ring.push(i * 10);
    expect(ring.after(3, 2)).to.deep.equal([40, 50]);
    expect(ring.after(8, 5)).to.deep.equal([]);
  });

  it('reports an empty log as oldest = head + 1', () => {
    const ring = new RingBuffer<number>(2, 5);
    expect(ring.head).to.equal(5);
    expect(ring.oldest).to.equal(6);
    expect(ring.push(1)).to.equal(6);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new RingBuffer(0)).to.throw(RangeError);
  });
});
