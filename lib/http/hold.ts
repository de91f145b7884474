import type { ServerResponse } from 'node:http';
import type { Context } from 'koa';
import type { SharedAnswer } from '../poll/answer.js';
import type { HubError } from '../model/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { PollHandle, PollSink } from '../poll/poller.js';
import { errorResponse, isFault, type ErrorLogger } from './errors.js';
import { allowAsScript } from './headers.js';
import { headerLines, rawAnswers, writeRawAnswer } from './raw-answer.js';
import { requestId } from './logging.js';
import { state, wrapJsonp } from './request.js';

const NONE: readonly string[] = [];

/**
 * A held poll's way back to its client, outside Koa: it keeps the raw response, the headers the
 * answer still needs as flat name/value pairs (`fixed`, shared by every poll, and `own`, this
 * request's few; both empty when Koa has set them on the response already), the JSONP callback
 * if any, and nothing else of the request, so a parked poll costs little memory and an answer
 * is one writeHead and one end of bytes shared with every other waiter.
 */
export class ResponseSink implements PollSink {
  /** `fixed` as header lines when answers may be written raw (see raw-answer.ts), else null. */
  private readonly fixedLines: string | null;

  constructor(
    private readonly res: ServerResponse,
    private readonly fixed: readonly string[],
    private readonly own: readonly string[],
    private readonly callback: string | undefined,
    private readonly log: ErrorLogger,
    private readonly where: { method: string; path: string; reqId: string },
    private readonly closing: () => boolean,
    /** Told of every refusal this sink writes (the metrics count 429s, as the error middleware does). */
    private readonly onRefusal: (error: HubError) => void = () => undefined,
    /** `fixed` as header lines, made once by the caller for every sink it makes. */
    fixedLines?: string,
  ) {
    this.fixedLines = fixedLines !== undefined && this.fixed.length > 0 && rawAnswers() ? fixedLines : null;
  }

  answer(body: SharedAnswer): void {
    this.send(200, body);
  }

  /** Answers `status` with a JSON body (JSONP-wrapped when the request asked for it). */
  send(status: number, body: SharedAnswer): void {
    if (this.callback !== undefined) return this.write(200, 'application/javascript; charset=utf-8', Buffer.from(wrapJsonp(this.callback, status, body.text)));
    // The common case, thousands per wake: headers all ours, nothing set on the response yet.
    if (this.fixedLines !== null) {
      const res = this.res;
      if (res.headersSent || res.destroyed) return;
      const lines = `${this.fixedLines}${headerLines(this.own)}Content-Type: application/json; charset=utf-8\r\nContent-Length: ${body.bytes().length}\r\n`;
      return writeRawAnswer(res, status, lines, body.latin1(), this.closing());
    }
    this.write(status, 'application/json; charset=utf-8', body.bytes());
  }

  fail(error: HubError): void {
    this.onRefusal(error);
    const answer = errorResponse(error);
    // The same rule as the error middleware: every 5xx but a drain is logged with its cause.
    if (isFault(answer.error)) this.log(error, this.where);
    const extra: string[] = [];
    for (const [name, value] of Object.entries(answer.headers)) extra.push(name, value);
    if (this.callback !== undefined) {
      this.write(200, 'application/javascript; charset=utf-8', Buffer.from(wrapJsonp(this.callback, answer.status, answer.body)), extra);
    } else {
      this.write(answer.status, 'application/json; charset=utf-8', Buffer.from(answer.body), extra);
    }
  }

  private write(status: number, type: string, bytes: Buffer, extra: readonly string[] = NONE): void {
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    if (this.callback !== undefined) allowAsScript(res);
    // One array to writeHead: with nothing set through setHeader (the fast path), Node writes
    // it straight out without building a header map. Built only now, so a parked poll holds no copy.
    const head = this.fixed.concat(this.own, extra);
    head.push('Content-Type', type, 'Content-Length', String(bytes.length));
    // Answered by a drain: the client must reconnect elsewhere, not reuse this socket.
    if (this.closing()) head.push('Connection', 'close');
    res.writeHead(status, head);
    res.end(bytes);
  }
}

/** A sink's refusal observer that counts 429 rate_limited answers on `route` (the per-address cap). */
export function countRateLimited(metrics: Pick<Metrics, 'rateLimited'>, route: string): (error: HubError) => void {
  return (error) => {
    if (error.code === 'rate_limited') metrics.rateLimited(route);
  };
}

/** Cancels the hold when its client goes away before the answer is written. */
export function cancelOnClose(res: ServerResponse, handle: PollHandle): void {
  if (res.writableEnded) return;
  // Gone already (while its token was checked): 'close' has fired and will not fire again.
  if (res.destroyed) return handle.cancel();
  res.once('close', () => cancelIfUnanswered(res, handle));
}

/** On a response's close: an answer not fully written means the client left, so its hold goes. */
export function cancelIfUnanswered(res: ServerResponse, handle: PollHandle): void {
  if (!res.writableFinished) handle.cancel();
}

/**
 * Hands a poll to the hub and leaves Koa's chain at once: headers set so far (CORS, no-store,
 * nosniff) stay on the response, the sink writes the answer when it comes, and a client that
 * goes away cancels its hold.
 */
export function holdResponse(
  ctx: Context,
  log: ErrorLogger,
  start: (sink: PollSink) => PollHandle,
  closing: () => boolean = () => false,
  onRefusal?: (error: HubError) => void,
): void {
  const res = ctx.res;
  ctx.respond = false;
  const sink = new ResponseSink(res, NONE, NONE, state(ctx).jsonp, log, { method: ctx.method, path: ctx.path, reqId: requestId(ctx) }, closing, onRefusal);
  cancelOnClose(res, start(sink));
}
