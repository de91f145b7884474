/**
 * Seq accounting for one viewer on one event: every delta is in order, a gap, a duplicate or
 * a late (out-of-order) arrival. A late delta is one that fills a hole left earlier, so it
 * turns a counted gap back into a delivery; anything at or below the newest seq that fills
 * no hole is a duplicate.
 */

/** How many inclusive [from, to] holes are remembered; older ones are forgotten. */
const MAX_HOLES = 128;

/** Counts seq order for one (viewer, event); see the module comment. */
export class SeqTrack {
  /** The cursor to poll with next; '' until the join answer gave one. */
  cursor = '';
  /** Newest seq seen (snapshot or delta); -1 before the join answer. */
  last = -1;
  delivered = 0;
  gaps = 0;
  duplicates = 0;
  outOfOrder = 0;
  resets = 0;
  private holes: number[] = [];
  /**
   * With a kinds filter the server legitimately skips seqs, so holes prove nothing.
   * Then gaps are settled at the end against the seqs the simulator itself published:
   * `segments` holds (from, to, received) triples, one per stretch between resets.
   */
  private readonly segments: number[] | null;
  private segmentFrom = 0;
  private received = 0;

  constructor(filtered: boolean) {
    this.segments = filtered ? [] : null;
  }

  /** True once a join (or reset) answer set the starting seq. */
  get joined(): boolean {
    return this.last >= 0;
  }

  /** The join answer: the snapshot is at `seq`, deltas after it are expected. */
  join(seq: number): void {
    this.last = seq;
    this.segmentFrom = seq;
  }

  /** One delivered delta; `ours`: a delta this simulator published (filtered accounting). */
  delta(seq: number, ours: boolean): void {
    this.delivered += 1;
    if (seq > this.last) {
      if (seq > this.last + 1) {
        this.addHole(this.last + 1, seq - 1);
        if (this.segments === null) this.gaps += seq - this.last - 1;
      }
      this.last = seq;
      if (ours) this.received += 1;
    } else if (this.fillHole(seq)) {
      this.outOfOrder += 1;
      if (this.segments === null) this.gaps -= 1;
      if (ours) this.received += 1;
    } else {
      this.duplicates += 1;
    }
  }

  /** A `reset` answer: what was `missed` is lost (null: unknown, the epoch changed). */
  reset(snapshotSeq: number, missed: number | null | undefined): void {
    this.resets += 1;
    if (typeof missed === 'number' && missed > 0) this.gaps += missed;
    this.closeSegment();
    this.holes = [];
    this.last = snapshotSeq;
    this.segmentFrom = snapshotSeq;
  }

  /** End of run: settle filtered gaps; `published(from, to)` counts our seqs in (from, to]. */
  finish(published: (from: number, to: number) => number): void {
    if (this.segments === null) return;
    this.closeSegment();
    const s = this.segments;
    for (let i = 0; i + 2 < s.length; i += 3) {
      this.gaps += Math.max(0, published(s[i]!, s[i + 1]!) - s[i + 2]!);
    }
    s.length = 0;
  }

  private closeSegment(): void {
    if (this.segments === null || this.last < 0) return;
    this.segments.push(this.segmentFrom, this.last, this.received);
    this.received = 0;
  }

  private addHole(from: number, to: number): void {
    if (this.holes.length >= MAX_HOLES * 2) this.holes.splice(0, 2);
    this.holes.push(from, to);
  }

  private fillHole(seq: number): boolean {
    const h = this.holes;
    for (let i = h.length - 2; i >= 0; i -= 2) {
      const from = h[i]!;
      const to = h[i + 1]!;
      if (seq < from || seq > to) continue;
      if (from === to) h.splice(i, 2);
      else if (seq === from) h[i] = from + 1;
      else if (seq === to) h[i + 1] = to - 1;
      else h.splice(i, 2, from, seq - 1, seq + 1, to);
      return true;
    }
    return false;
  }
}
