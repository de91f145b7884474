/**
 * One simulated viewer: one keep-alive socket, one poll in flight, seq accounting per event.
 * Follows one event with `GET /events/:id/poll`, several with `GET /poll?subs=` (API.md).
 * Its holds and retries follow the browser client's own rule (./client-rule.ts): the hold asked
 * for fits the path, a cut is retried at once, fast failures back off.
 */
import type { Delta, MultiPollAnswer, PollAnswer, PollErrorEntry } from '../../lib/protocol.js';
import { holdPolicy, parseHoldHeader } from './client-rule.js';
import { HttpConn, type ConnHandler, type SourceAddresses } from './http-conn.js';
import { headerValue, nchanCursor, nchanDeltas, nchanSubPath } from './nchan.js';
import { SeqTrack } from './seq-track.js';
import { openSseStream, openWsStream, type StreamConn, type StreamHandler } from './stream-conn.js';

/** How viewers follow: long polling, SSE, WebSocket, or `auto` (join by poll, then WebSocket, else SSE, else poll). */
export type Transport = 'poll' | 'sse' | 'ws' | 'auto';

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
  transport: Transport;
  /** `&kinds=…` (the filter part of `query`), for the streams. */
  filterQuery: string;
  kinds: readonly string[];
  /** ms an Nchan poll may take before the client gives up (holdline polls: their rule's give-up). */
  pollTimeoutMs: number;
  /** Pins every poll's hold (ms), as the browser client's holdMs option does; else it adapts. */
  holdMs: number | undefined;
  /** The browser client's hold options (floor, probe interval, what counts as a cut). */
  holds: Holdline.HoldOptions;
  now(): number;
  /** Wall-clock ms with sub-ms precision, comparable to the `sentAt` the publisher embeds. */
  wallNow(): number;
  recordLatency(ms: number): void;
  answered(deltas: number): void;
  joined(viewer: Viewer): void;
  unavailable(feature: string, status: number): void;
}

/** One viewer's keep-alive poll loop and its counters. */
export class Viewer implements ConnHandler, StreamHandler {
  readonly tracks: SeqTrack[];
  readonly conn: HttpConn;
  polls = 0;
  /** Polls the path cut after a long hold (retried at once, not errors). */
  cuts = 0;
  /** Streams opened (the first and every reconnect). */
  streams = 0;
  /** What the viewer follows with now. */
  current: 'poll' | 'sse' | 'ws';
  private stream: StreamConn | null = null;
  /** Under `auto`: the streaming transports not yet tried, best first. */
  private untried: Array<'sse' | 'ws'>;
  errors: Record<string, number> | null = null;
  /** ctx.now() after which the poll in flight counts as timed out; 0 when idle. */
  deadline = 0;
  hasJoined = false;
  ended = false;
  private stopped = false;
  /** The hold and retry rule, the browser client's. */
  private readonly policy: Holdline.HoldPolicy;
  /** The hold the poll in flight asked for, and when it was sent (ctx.now()). */
  private askedMs = 0;
  private sentAt = 0;
  /** From `timeout=`'s value up to the cursor. */
  private readonly cursorPrefix: string;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The request line up to the cursor; with ctx.requestTail, all a poll needs but its cursor. */
  private readonly head: string;
  /** One latin1 string per poll: a single write() costs less than a writev of pieces. */
  private readonly parts: string[];
  private readonly multi: boolean;
  private readonly encoded: string[];
  private readonly slot: number;

  constructor(
    private readonly ctx: ViewerContext,
    readonly id: string,
    slot: number,
  ) {
    this.multi = ctx.events.length > 1;
    this.encoded = ctx.events.map(encodeURIComponent);
    this.tracks = ctx.events.map(() => new SeqTrack(ctx.filtered));
    this.conn = new HttpConn(ctx.host, ctx.port, ctx.sources, this, slot);
    this.policy = holdPolicy({ ...ctx.holds, ...(ctx.holdMs === undefined ? {} : { holdMs: ctx.holdMs }), now: ctx.now });
    this.slot = slot;
    const path = this.multi ? '/poll' : `/events/${this.encoded[0]}/poll`;
    this.head =
      ctx.protocol === 'nchan'
        ? `GET ${nchanSubPath(this.encoded[0]!)} HTTP/1.1\r\nHost: ${ctx.host}:${ctx.port}\r\nAccept: multipart/mixed\r\n`
        : `GET ${path}?viewer=${id}${ctx.query}&timeout=`;
    this.cursorPrefix = `&${this.multi ? 'subs' : 'cursor'}=`;
    this.parts = [''];
    const t = ctx.transport;
    this.current = t === 'auto' ? 'poll' : t;
    this.untried = t === 'auto' ? ['ws', 'sse'] : [];
  }

  /** Join (a poll, or the stream's first answer); the loop keeps itself going from there. */
  start(): void {
    if (this.current === 'poll') this.poll();
    else this.openStream();
  }

  /** Stop polling and close the socket; no callbacks after this. */
  stop(): void {
    this.stopped = true;
    this.stream?.close();
    this.stream = null;
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
    const elapsed = this.ctx.now() - this.sentAt;
    const hold = headerValue(head, 'holdline-hold');
    const retryAfter = headerValue(head, 'retry-after');
    this.policy.advertised(parseHoldHeader(hold));
    const answer = { status, retryAfter, fromServer: hold !== '' };
    if (status !== 200) {
      if (this.multi && !this.hasJoined && (status === 404 || status === 405)) {
        this.ctx.unavailable('multi-event poll', status);
      }
      return this.after(answer, elapsed, String(status));
    }
    const received = this.ctx.wallNow();
    const wasJoined = this.hasJoined;
    let retry = false;
    let deltas = 0;
    try {
      const parsed = JSON.parse(body.toString('utf8')) as PollAnswer | MultiPollAnswer;
      if (this.multi) retry = this.takeMulti(parsed as MultiPollAnswer, received);
      else this.ctx.answered((deltas = this.take(0, parsed as PollAnswer, received)));
    } catch {
      return this.after(answer, elapsed, 'invalid_json');
    }
    if (!this.hasJoined && this.tracks.every((t) => t.joined)) {
      this.hasJoined = true;
      this.ctx.joined(this);
    }
    if (this.ended) this.deadline = 0;
    else if (retry) this.retryLater(this.policy.failed(answer, this.askedMs, elapsed).delayMs);
    else {
      this.policy.answered(this.askedMs, elapsed, wasJoined && deltas === 0);
      if (this.hasJoined && this.untried.length > 0) {
        // auto: joined by long polling (data at once on any network); now move to a stream at this cursor.
        this.current = this.untried.shift()!;
        this.conn.release();
        this.openStream();
      } else this.poll();
    }
  }

  // Streams -----------------------------------------------------------------------------------

  onMessage(text: string, event: string): void {
    if (this.stopped) return;
    const received = this.ctx.wallNow();
    if (this.ctx.protocol === 'nchan') {
      try {
        this.ctx.answered(this.take(0, { deltas: [JSON.parse(text) as Delta], cursor: '' } as unknown as PollAnswer, received));
      } catch {
        this.countError('invalid_json');
      }
      return this.markJoined();
    }
    let msg: (PollAnswer | MultiPollAnswer) & { type?: string; status?: number; reason?: string; advice?: { retryMs: number } };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.countError('invalid_json');
      return;
    }
    if (event === 'end' || msg.type === 'end') {
      // Drain, token expiry, a cut slow reader: come back at the cursor (to any server).
      this.stream?.close();
      this.stream = null;
      if (msg.reason === 'ended') {
        this.ended = true;
        return;
      }
      if (msg.reason !== 'drain') this.countError(`end_${msg.reason ?? '?'}`);
      this.retryTimer = setTimeout(() => this.openStream(), msg.advice?.retryMs ?? 100);
      return;
    }
    if (msg.type === 'error') {
      this.countError(String(msg.status));
      this.stream?.close();
      this.stream = null;
      return this.retryLater(this.streamBackoff());
    }
    if (msg.type !== undefined) return;
    if (this.multi) this.takeMulti(msg as MultiPollAnswer, received);
    else this.ctx.answered(this.take(0, msg as PollAnswer, received));
    // Answers come: the next failure starts the backoff afresh.
    this.policy.reset();
    this.markJoined();
  }

  onRefused(key: string): void {
    this.stream = null;
    if (this.stopped) return;
    this.countError(key);
    if (this.ctx.transport === 'auto') {
      // This transport does not get through here: the next one, or long polling again.
      this.current = this.untried.shift() ?? 'poll';
      if (this.current === 'poll') return this.poll();
      return this.openStream();
    }
    this.retryLater(this.streamBackoff());
  }

  onClosed(code: string): void {
    this.stream = null;
    if (this.stopped || this.ended) return;
    this.countError(code);
    this.retryLater(this.streamBackoff());
  }

  /** A stream that failed waits as the client's rule waits after a fast failure. */
  private streamBackoff(): number {
    return this.policy.failed({ status: 0, retryAfter: null, fromServer: false }, 0, 0).delayMs;
  }

  private markJoined(): void {
    if (!this.hasJoined && this.tracks.every((t) => t.joined)) {
      this.hasJoined = true;
      this.ctx.joined(this);
    }
  }

  /** The stream's position as the server names it: one cursor, or `m1@c1,m2@c2`. */
  private resumePoint(): string {
    if (!this.multi) return this.tracks[0]!.cursor;
    return this.tracks.map((t, i) => (t.cursor === '' ? this.encoded[i] : `${this.encoded[i]}@${t.cursor}`)).join(',');
  }

  /** Opens (or reopens, at the cursor) the current stream. */
  private openStream(): void {
    if (this.stopped) return;
    this.retryTimer = null;
    this.streams += 1;
    const { host, port } = this.ctx;
    const local = this.ctx.sources.addressFor(this.slot);
    if (this.ctx.protocol === 'nchan') {
      const path = `/stream/${this.encoded[0]}`;
      this.stream = this.current === 'sse' ? openSseStream(host, port, local, path, null, this) : openWsStream(host, port, local, path, null, this);
      return;
    }
    const resume = this.resumePoint();
    if (this.current === 'sse') {
      const path = this.multi ? `/stream?viewer=${this.id}${this.ctx.filterQuery}&subs=${this.encoded.join(',')}` : `/events/${this.encoded[0]}/stream?viewer=${this.id}${this.ctx.filterQuery}`;
      this.stream = openSseStream(host, port, local, path, resume === '' ? null : resume, this);
      return;
    }
    const kinds = this.ctx.kinds.length > 0 ? this.ctx.kinds.join(',') : undefined;
    const follow = this.multi
      ? { type: 'subscribe', id: this.id, subs: resume, kinds }
      : { id: this.id, eventId: this.ctx.events[0], cursor: resume === '' ? undefined : resume, kinds };
    this.stream = openWsStream(host, port, local, '/realtime', JSON.stringify(follow), this);
  }

  onError(code: string): void {
    this.deadline = 0;
    if (this.stopped) return;
    this.after({ status: 0, retryAfter: null, fromServer: false, timedOut: code === 'timeout' }, this.ctx.now() - this.sentAt, code);
  }

  /** After a failed poll, what the browser client does: a cut at once, anything else after the rule's wait. */
  private after(res: { status: number; retryAfter: string | null; fromServer: boolean; timedOut?: boolean }, elapsed: number, key: string): void {
    const next = this.policy.failed(res, this.askedMs, elapsed);
    if (next.kind === 'cut') {
      this.cuts += 1;
      this.poll();
      return;
    }
    this.countError(key);
    this.retryLater(next.delayMs);
  }

  /** An Nchan answer: 408 is a hold that expired (poll again); 200 carries messages. */
  private onNchan(status: number, body: Buffer, head: string): void {
    if (status === 408 || status === 304) return this.poll();
    if (status !== 200) {
      this.countError(String(status));
      return this.retryLater(this.policy.failed({ status, retryAfter: null, fromServer: true }, 0, 0).delayMs);
    }
    const received = this.ctx.wallNow();
    try {
      const deltas = nchanDeltas(head, body);
      this.ctx.answered(this.take(0, { deltas, cursor: nchanCursor(head) } as unknown as PollAnswer, received));
    } catch {
      this.countError('invalid_json');
      return this.retryLater(this.policy.failed({ status, retryAfter: null, fromServer: true }, 0, 0).delayMs);
    }
    if (!this.hasJoined) {
      this.hasJoined = true;
      this.ctx.joined(this);
    }
    this.policy.reset();
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
    this.sentAt = this.ctx.now();
    if (this.ctx.protocol === 'nchan') {
      this.parts[0] = `${this.head}${tracks[0]!.cursor}\r\n`;
      this.deadline = this.sentAt + this.ctx.pollTimeoutMs;
    } else {
      this.askedMs = this.policy.holdMs();
      const prefix = this.head + this.askedMs / 1000 + this.cursorPrefix;
      if (this.multi) {
        let subs = '';
        for (let i = 0; i < tracks.length; i++) {
          const cursor = tracks[i]!.cursor;
          subs += (i === 0 ? '' : ',') + (cursor === '' ? this.encoded[i] : `${this.encoded[i]}@${cursor}`);
        }
        this.parts[0] = prefix + subs + this.ctx.requestTail;
      } else {
        this.parts[0] = prefix + tracks[0]!.cursor + this.ctx.requestTail;
      }
      this.deadline = this.sentAt + this.policy.giveUpMs(this.askedMs);
    }
    this.polls += 1;
    this.conn.send(this.parts);
  }

  private retryLater(delayMs: number): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => (this.current === 'poll' ? this.poll() : this.openStream()), delayMs);
  }
}
