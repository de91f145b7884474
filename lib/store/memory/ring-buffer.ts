/**
 * A fixed-capacity log of items numbered by contiguous seq: pushing past capacity drops the
 * oldest. Knows nothing of events, HTTP or stores.
 */
export class RingBuffer<T> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  /** seq of the newest item; 0 when nothing was ever pushed. */
  private headSeq: number;
  private count = 0;

  /** @param startSeq the seq the log is already at (the next push gets startSeq + 1). */
  constructor(capacity: number, startSeq = 0) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity);
    this.headSeq = startSeq;
  }

  /** seq of the newest item (0 for an empty log that never had one). */
  get head(): number {
    return this.headSeq;
  }

  /** seq of the oldest item still held; head + 1 when empty. */
  get oldest(): number {
    return this.headSeq - this.count + 1;
  }

  get size(): number {
    return this.count;
  }

  /** Appends the item as seq head + 1 and returns that seq. */
  push(item: T): number {
    this.headSeq += 1;
    this.items[this.headSeq % this.capacity] = item;
    if (this.count < this.capacity) this.count += 1;
    return this.headSeq;
  }

  /** The item at seq, or undefined when it is not (or no longer) held. */
  get(seq: number): T | undefined {
    if (seq < this.oldest || seq > this.headSeq) return undefined;
    return this.items[seq % this.capacity];
  }

  /** Items after `afterSeq`, oldest first, at most `limit`; callers check afterSeq >= oldest - 1. */
  after(afterSeq: number, limit: number): T[] {
    const from = Math.max(afterSeq + 1, this.oldest);
    const to = Math.min(this.headSeq, from + limit - 1);
    const out: T[] = [];
    for (let seq = from; seq <= to; seq++) out.push(this.items[seq % this.capacity] as T);
    return out;
  }
}
