import type { ServerResponse } from 'node:http';
import type { SharedAnswer } from '../poll/answer.js';
import { HubError } from '../model/errors.js';
import type { Follower, FollowEnd, FollowSink } from '../poll/follower.js';
import { ResponseSink } from './hold.js';
import type { ErrorLogger } from './errors.js';

/**
 * Server-Sent Events on the poll core: each answer a follower gets is one SSE event whose
 * `id:` is the stream position (the cursor, or `m1@c1,m2@c2`), so the browser's own
 * Last-Event-ID resumes exactly; its `data:` is the poll answer's JSON as the poll path
 * serialised it. Comment heartbeats keep proxies from cutting an idle stream; the stream ends
 * with an `end` event (reason, resume point, retry advice) on drain, token expiry, a client
 * that does not keep up, or when every followed event has ended.
 */

const NONE: readonly string[] = [];

/** An SSE event of one single-event answer: the same for every stream the answer goes to. */
const frames = new WeakMap<SharedAnswer, Buffer>();

/** `id:` + `data:` for an answer; poll answers are one-line JSON (no CR or LF), so one data line. */
function frameOf(body: SharedAnswer, resume: string, shared: boolean): Buffer | string {
  if (!shared) return `id: ${resume}\ndata: ${body.text}\n\n`;
  let frame = frames.get(body);
  if (!frame) frames.set(body, (frame = Buffer.from(`id: ${resume}\ndata: ${body.text}\n\n`, 'utf8')));
  return frame;
}

/** The JSON of an `end` event (and of the WebSocket `end` message, with its type). */
export function endBody(end: FollowEnd): Record<string, unknown> {
  const body: Record<string, unknown> = { reason: end.reason, resume: end.resume };
  if (end.advice) body['advice'] = end.advice;
  if (end.error) body['error'] = { status: end.error.status, ...end.error.toBody().error };
  return body;
}

/** How long a cut slow client has to read its final event before its socket is destroyed. */
const CUT_GRACE_MS = 5000;

/** Every open SSE stream of the server: one heartbeat interval for all of them, running only while any is open. */
export class SseStreams {
  private readonly open = new Set<SseSink>();
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly heartbeatMs: number) {}

  /** Open streams. */
  get size(): number {
    return this.open.size;
  }

  /** Starts counting a stream whose headers are written. */
  add(sink: SseSink): void {
    this.open.add(sink);
    if (this.timer === null) {
      this.timer = setInterval(() => {
        for (const s of this.open) s.heartbeat();
      }, this.heartbeatMs);
      this.timer.unref();
    }
  }

  /** Stops counting a stream (it ended or its client left). */
  delete(sink: SseSink): void {
    this.open.delete(sink);
    if (this.open.size > 0) return;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Nothing of its own: every SSE stream is a follower, and hears the drain from the hub. */
  drain(): void {}

  /** Resolves once no stream is open (they are requests too: the server counts them in flight). */
  settled(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Cuts every stream still open (after a drain's deadline) and stops the heartbeat. */
  close(): void {
    for (const s of [...this.open]) s.destroy();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * One SSE stream's writer: a follower's FollowSink on a raw response whose other headers
 * (security, CORS, request id, no-store) Koa has set already. Until the first answer nothing is
 * written, so a refusal at open is an ordinary JSON error with its status.
 */
export class SseSink implements FollowSink {
  follower: Follower | null = null;
  private cut: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly streams: SseStreams,
    private readonly multi: boolean,
    private readonly log: ErrorLogger,
    private readonly where: { method: string; path: string; reqId: string },
    private readonly onRefusal: (error: HubError) => void,
  ) {
    res.once('close', () => {
      if (this.cut !== null) clearTimeout(this.cut);
      this.streams.delete(this);
      this.follower?.close();
    });
  }

  answer(body: SharedAnswer, resume: string, first: boolean): void {
    const res = this.res;
    if (res.destroyed) return;
    if (first) this.open();
    res.write(frameOf(body, resume, !this.multi));
  }

  buffered(): number {
    return this.res.writableLength;
  }

  end(end: FollowEnd, first: boolean): void {
    const res = this.res;
    if (res.destroyed || res.writableEnded) return;
    if (first) {
      // Never opened: answer as a poll would have been refused.
      if (end.reason === 'ended') {
        // 204 tells EventSource not to reconnect: the event is over and was delivered.
        res.writeHead(204);
        res.end();
        return;
      }
      const error = end.error ?? (end.reason === 'drain' ? new HubError('draining', 'the server is draining', { retryAfterS: 1 }) : new HubError('invalid_token', 'the token has expired'));
      this.refuse(error);
      return;
    }
    let text = 'event: end\n';
    if (end.advice) text += `retry: ${end.advice.retryMs}\n`;
    res.end(`${text}data: ${JSON.stringify(endBody(end))}\n\n`);
    if (end.reason === 'slow') {
      // Its buffer is full: if it does not read the rest within the grace, it is cut off.
      this.cut = setTimeout(() => res.destroy(), CUT_GRACE_MS);
      this.cut.unref();
    }
  }

  /** A refusal before the stream opened, as the poll routes answer it. */
  refuse(error: HubError): void {
    new ResponseSink(this.res, NONE, NONE, undefined, this.log, this.where, () => false, this.onRefusal).fail(error);
  }

  /** A comment line: proxies see bytes, EventSource ignores it. */
  heartbeat(): void {
    if (!this.res.destroyed && !this.res.writableEnded) this.res.write(':\n\n');
  }

  /** Cuts the connection (the drain deadline passed). */
  destroy(): void {
    this.res.destroy();
  }

  private open(): void {
    const res = this.res;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      // nginx would otherwise buffer the stream (proxy_buffering); other proxies may still.
      'X-Accel-Buffering': 'no',
    });
    // EventSource waits this long before it reconnects by itself (with Last-Event-ID).
    res.write('retry: 1000\n\n');
    this.streams.add(this);
  }
}
