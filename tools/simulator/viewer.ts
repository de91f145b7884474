/**
 * One simulated viewer: one keep-alive socket, one poll in flight, seq accounting per event.
 * Follows one event with `GET /events/:id/poll`, several with `GET /poll?subs=` (API.md).
 */
import type { Delta, MultiPollAnswer, PollAnswer, PollErrorEntry } from '../../lib/protocol.js';
import { HttpConn, type ConnHandler, type SourceAddresses } from './http-conn.js';
import { nchanCursor, nchanDeltas, nchanSubPath } from './nchan.js';
import { SeqTrack } from './seq-track.js';

/** What every viewer of one simulation shares. */
export interface ViewerContext {
  host: string;
  port: number;
  sources: SourceAddresses;
  events: readonly string[];
  /** Query string after `viewer=<id>`: `&timeout=…&kinds=…` or ''. */
  query: string;
  /** ` HTTP/1.1\r\nHost: …\r\n\r\n` */
  requestTail: string;
  filtered: boolean;
  /** Which server's protocol the viewers speak (tools/simulator/nchan.ts for 'nchan'). */
  protocol: 'holdline' | 'nchan';
  /** ms a poll may take before the client gives up: the hold plus 10 s (API.md advice). */
  pollTimeoutMs: number;
  now(): number;
  /** Wall-clock ms with sub-ms precision, comparable to the `sentAt` the publisher embeds. */
  wallNow(): number;
  recordLatency(ms: number): void;
  answered(deltas: number): void;
  joined(viewer: Viewer): void;
  unavailable(feature: string, status: number): void;
}

/** One viewer's keep-alive poll loop and its counters. */
export class Viewer implements ConnHandler {
  readonly tracks: SeqTrack[];
  readonly conn: HttpConn;
  polls = 0;
  errors: Record<string, number> | null = null;
  /** ctx.now() after which the poll in flight counts as timed out; 0 when idle. */
  deadline = 0;
  hasJoined = false;
  ended = false;
  private stopped = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The request line up to the cursor; with ctx.requestTail, all a poll needs but its cursor. */
  private readonly head: string;
  /** One latin1 string per poll: a single write() costs less than a writev of pieces. */
  private readonly parts: string[];
  private readonly multi: boolean;
  private readonly encoded: string[];

  constructor(
    private readonly ctx: ViewerContext,
    readonly id: string,
    slot: number,
  ) {
    this.multi = ctx.events.length > 1;
    this.encoded = ctx.events.map(encodeURIComponent);
    this.tracks = ctx.events.map(() => new SeqTrack(ctx.filtered));
    this.conn = new HttpConn(ctx.host, ctx.port, ctx.sources, this, slot);
    const path = this.multi ? '/poll' : `/events/${this.encoded[0]}/poll`;
    this.head =
      ctx.protocol === 'nchan'
        ? `GET ${nchanSubPath(this.encoded[0]!)} HTTP/1.1\r\nHost: ${ctx.host}:${ctx.port}\r\nAccept: multipart/mixed\r\n`
        : `GET ${path}?viewer=${id}${ctx.query}&${this.multi ? 'subs' : 'cursor'}=`;
    this.parts = [''];
  }

  /** Send the join poll (no cursor); the loop keeps itself going from there. */
  start(): void {
    this.poll();
  }

  /** Stop polling and close the socket; no callbacks after this. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.deadline = 0;
    this.conn.close();
  }

  /** True when every followed event has reached `targets[i]` (the newest published seq). */
  upToDate(targets: readonly number[]): boolean {
    for (let i = 0; i < this.tracks.length; i++) {
      if (this.tracks[i]!.last < (targets[i] ?? 0)) return false;
    }
    return true;
  }

  /** Count an error by HTTP status or socket error code. */
  countError(key: string): void {
    const errors = (this.errors ??= {});
    errors[key] = (errors[key] ?? 0) + 1;
  }

  onResponse(status: number, body: Buffer, head: string): void {
    this.deadline = 0;
    if (this.stopped) return;
    if (this.ctx.protocol === 'nchan') return this.onNchan(status, body, head);
    if (status !== 200) {
      if (this.multi && !this.hasJoined && (status === 404 || status === 405)) {
        this.ctx.unavailable('multi-event poll', status);
      }
      this.countError(String(status));
      this.retryLater();
      return;
    }
    const received = this.ctx.wallNow();
    let retry = false;
    try {
      const answer = JSON.parse(body.toString('utf8')) as PollAnswer | MultiPollAnswer;
      if (this.multi) retry = this.takeMulti(answer as MultiPollAnswer, received);
      else this.ctx.answered(this.take(0, answer as PollAnswer, received));
    } catch {
      this.countError('invalid_json');
      retry = true;
    }
    if (!this.hasJoined && this.tracks.every((t) => t.joined)) {
      this.hasJoined = true;
      this.ctx.joined(this);
    }
    this.failures = retry ? this.failures : 0;
    if (this.ended) this.deadline = 0;
    else if (retry) this.retryLater();
    else this.poll();
  }

  onError(code: string): void {
    this.deadline = 0;
    if (this.stopped) return;
    this.countError(code);
    this.retryLater();
  }

  /** An Nchan answer: 408 is a hold that expired (poll again); 200 carries messages. */
  private onNchan(status: number, body: Buffer, head: string): void {
    if (status === 408 || status === 304) return this.poll();
    if (status !== 200) {
      this.countError(String(status));
      return this.retryLater();
    }
    const received = this.ctx.wallNow();
    try {
      const deltas = nchanDeltas(head, body);
      this.ctx.answered(this.take(0, { deltas, cursor: nchanCursor(head) } as unknown as PollAnswer, received));
    } catch {
      this.countError('invalid_json');
      return this.retryLater();
    }
    if (!this.hasJoined) {
      this.hasJoined = true;
      this.ctx.joined(this);
    }
    this.failures = 0;
    this.poll();
  }

  private takeMulti(answer: MultiPollAnswer, received: number): boolean {
    let retry = false;
    let delivered = 0;
    const results = answer.results;
    for (let i = 0; i < this.tracks.length; i++) {
      const entry = results[i];
      if (entry === undefined || entry.event !== this.ctx.events[i]) {
        this.countError('bad_results');
        return true;
      }
      if ('error' in entry) {
        this.countError(String((entry as PollErrorEntry).status));
        retry = true;
      } else {
        delivered += this.take(i, entry, received);
      }
    }
    this.ctx.answered(delivered);
    return retry;
  }

  /** Account one poll answer; returns how many deltas it carried. */
  private take(i: number, answer: PollAnswer, received: number): number {
    const track = this.tracks[i]!;
    const snapshotSeq = answer.snapshot?.seq;
    if (answer.reset) {
      track.reset(snapshotSeq ?? track.last, answer.missed);
    } else if (!track.joined) {
      // Without a snapshot the first delta sets the start (join answers carry none).
      track.join(snapshotSeq ?? (answer.deltas[0] ? answer.deltas[0].seq - 1 : 0));
    }
    const deltas: Delta[] = answer.deltas;
    for (let k = 0; k < deltas.length; k++) {
      const d = deltas[k]!;
      const sentAt = d.kind === 'score' ? d.data['sentAt'] : undefined;
      const ours = typeof sentAt === 'number';
      track.delta(d.seq, ours);
      if (ours) this.ctx.recordLatency(received - sentAt);
    }
    track.cursor = answer.cursor;
    if (answer.ended && this.tracks.length === 1) this.ended = true;
    return deltas.length;
  }

  private poll(): void {
    if (this.stopped) return;
    this.retryTimer = null;
    const tracks = this.tracks;
    if (this.ctx.protocol === 'nchan') {
      this.parts[0] = `${this.head}${tracks[0]!.cursor}\r\n`;
    } else if (this.multi) {
      let subs = '';
      for (let i = 0; i < tracks.length; i++) {
        const cursor = tracks[i]!.cursor;
        subs += (i === 0 ? '' : ',') + (cursor === '' ? this.encoded[i] : `${this.encoded[i]}@${cursor}`);
      }
      this.parts[0] = this.head + subs + this.ctx.requestTail;
    } else {
      this.parts[0] = this.head + tracks[0]!.cursor + this.ctx.requestTail;
    }
    this.polls += 1;
    this.deadline = this.ctx.now() + this.ctx.pollTimeoutMs;
    this.conn.send(this.parts);
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.failures += 1;
    // Exponential back-off with jitter, so a refusing server is not hammered in lockstep.
    const base = Math.min(2000, 100 * 2 ** Math.min(this.failures, 5));
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => this.poll(), delay);
  }
}
