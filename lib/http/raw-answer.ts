import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { Socket } from 'node:net';

/**
 * Writes a whole answer (status line, headers, body) as one string in one socket write, below
 * ServerResponse's header machinery. A held poll's answer goes to thousands of sockets per
 * wake, and `writeHead` validates every header name and value on every one of them, then
 * `end` corks, queues the head, the body and an empty chunk, and flushes them with a writev:
 * for answers whose headers are all our own constants and checked ids, that was a quarter of
 * a wake's cost.
 *
 * It relies on what ServerResponse has done the same way since Node 0.x: `end()` with no chunk
 * sends `_header` as the first bytes and finishes the response (keep-alive, the next pipelined
 * request, 'finish' and 'close' all as usual), and `_last` tells the server to close the
 * socket after it. `rawAnswers` checks those fields exist on this Node, and callers fall back
 * to writeHead when they do not.
 */

/** The fields of ServerResponse that this module reads or sets (private in Node's typings). */
interface ResponseInternals {
  _header: string | null;
  _last: boolean;
  _keepAliveTimeout: number;
  _maxRequestsPerSocket?: number;
  maxRequestsOnConnectionReached?: boolean;
}

let supported: boolean | null = null;

/** True when this Node's ServerResponse has the fields writeRawAnswer relies on. */
export function rawAnswers(): boolean {
  if (supported === null) {
    const res = new ServerResponse(new IncomingMessage(new Socket())) as unknown as ResponseInternals & ServerResponse;
    supported = res._header === null && typeof res._last === 'boolean' && typeof res._keepAliveTimeout === 'number' && typeof res.shouldKeepAlive === 'boolean';
  }
  return supported;
}

/** Header lines (`Name: value\r\n` each) for flat name/value pairs of our own, already valid. */
export function headerLines(pairs: readonly string[]): string {
  let text = '';
  for (let i = 0; i < pairs.length; i += 2) text += `${pairs[i]}: ${pairs[i + 1]}\r\n`;
  return text;
}

let dateSecond = -1;
let dateText = '';

/** The Date header's value, made once a second (as Node's own is). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/**
 * Writes `status`, the header lines `lines` (ending in CRLF each, without Date, Connection and
 * Keep-Alive) and `body` (a latin1 string of the body's bytes) and finishes the response. The
 * connection headers follow Node's own rule; `close` forces `Connection: close`. Only for a
 * response on which nothing was set or written yet.
 */
export function writeRawAnswer(res: ServerResponse, status: number, lines: string, body: string, close: boolean): void {
  const r = res as unknown as ResponseInternals;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${lines}`;
  // In Node's order: a Connection header of our own comes with ours, before Date; Node's after it.
  if (close) head += 'Connection: close\r\n';
  if (res.sendDate) head += `Date: ${httpDate()}\r\n`;
  if (close) r._last = true;
  else if (!res.shouldKeepAlive || r.maxRequestsOnConnectionReached === true) {
    head += 'Connection: close\r\n';
    r._last = true;
  } else {
    head += 'Connection: keep-alive\r\n';
    if (r._keepAliveTimeout > 0) {
      const max = (r._maxRequestsPerSocket ?? 0) > 0 ? `, max=${r._maxRequestsPerSocket}` : '';
      head += `Keep-Alive: timeout=${Math.floor(r._keepAliveTimeout / 1000)}${max}\r\n`;
    }
  }
  res.statusCode = status;
  r._header = `${head}\r\n${body}`;
  res.end();
}
