/**
 * An incremental HTTP/1.1 response parser for the simulator's keep-alive sockets: status,
 * the three framing headers (Content-Length, Transfer-Encoding: chunked, Connection) and
 * the body, nothing else. It exists because node:http's client costs more CPU per answer
 * than the server it is meant to measure.
 */

/**
 * Receives each complete response; `body` may alias socket buffers, use it before returning.
 * `head` is the status line and headers as read (latin1), for the few callers that need a header
 * beyond the framing ones (Nchan's Last-Modified and Etag).
 */
export type ResponseSink = (status: number, body: Buffer, close: boolean, head: string) => void;

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailer,
  UntilClose,
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 4096;
const EMPTY = Buffer.alloc(0);

/** The framing a response head declares: the three headers the parser reads, raw values or null. */
interface Framing {
  length: string | null;
  transferEncoding: string | null;
  connection: string | null;
}

/** True when `text` has `name` (lower-case ASCII) at `at`, in any case, followed by a colon. */
function nameAt(text: string, at: number, name: string): boolean {
  if (text.charCodeAt(at + name.length) !== 58 /* : */) return false;
  for (let i = 0; i < name.length; i++) {
    const c = text.charCodeAt(at + i);
    const n = name.charCodeAt(i);
    // Folding case only where `name` has a letter: '-' must match '-' alone.
    if (c !== n && !(n >= 97 && n <= 122 && (c | 0x20) === n)) return false;
  }
  return true;
}

/**
 * Finds the framing headers in one pass over the head's lines, names compared without regard
 * to case and without building a lower-cased copy or any line strings (an answer with a dozen
 * security headers would otherwise cost the simulator more than a short one).
 */
function framing(head: string): Framing {
  const found: Framing = { length: null, transferEncoding: null, connection: null };
  let at = head.indexOf('\r\n');
  while (at !== -1) {
    const start = at + 2;
    const end = head.indexOf('\r\n', start);
    const stop = end === -1 ? head.length : end;
    const first = head.charCodeAt(start) | 0x20;
    let name = '';
    if (first === 99 /* c */) name = nameAt(head, start, 'content-length') ? 'content-length' : nameAt(head, start, 'connection') ? 'connection' : '';
    else if (first === 116 /* t */ && nameAt(head, start, 'transfer-encoding')) name = 'transfer-encoding';
    if (name !== '') {
      const value = head.slice(start + name.length + 1, stop).trim();
      if (name === 'content-length') found.length = value;
      else if (name === 'connection') found.connection = value.toLowerCase();
      else found.transferEncoding = value.toLowerCase();
    }
    at = end;
  }
  return found;
}

/** Thrown for bytes that are not an HTTP/1.1 response; the connection cannot be reused. */
export class ParseError extends Error {
  readonly code = 'EPARSE';
}

/** Parses a stream of responses pushed to it chunk by chunk, one sink call per response. */
export class ResponseParser {
  private state = State.Head;
  private head: Buffer | null = null;
  private line = '';
  private status = 0;
  private headText = '';
  private remaining = 0;
  private close = false;
  private parts: Buffer[] = [];
  private bodyBytes = 0;
  /** True while some bytes of a response have arrived but not all of them. */
  started = false;

  constructor(private readonly sink: ResponseSink) {}

  /** Forget any partial response (after the socket it came from is gone). */
  reset(): void {
    this.state = State.Head;
    this.head = null;
    this.line = '';
    this.parts = [];
    this.bodyBytes = 0;
    this.started = false;
  }

  /** The socket ended: a response framed by the connection's close is complete now. */
  end(): void {
    if (this.state === State.UntilClose) this.emit();
  }

  /** Feed the next bytes read from the socket. */
  push(data: Buffer): void {
    let at = 0;
    const n = data.length;
    while (at < n) {
      this.started = true;
      switch (this.state) {
        case State.Head: {
          at = this.readHead(data, at);
          break;
        }
        case State.Body:
        case State.ChunkData: {
          const take = Math.min(this.remaining, n - at);
          this.keep(data.subarray(at, at + take));
          at += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === State.Body) this.emit();
            else this.state = State.ChunkEnd;
          }
          break;
        }
        case State.ChunkEnd:
        case State.ChunkSize:
        case State.Trailer: {
          const eol = data.indexOf(10, at);
          const stop = eol === -1 ? n : eol;
          this.line += data.toString('latin1', at, stop);
          if (this.line.length > MAX_LINE_BYTES) throw new ParseError('chunk line too long');
          at = eol === -1 ? n : eol + 1;
          if (eol !== -1) this.endLine(this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line);
          break;
        }
        case State.UntilClose: {
          this.keep(data.subarray(at));
          at = n;
          break;
        }
      }
    }
  }

  private readHead(data: Buffer, at: number): number {
    let buf = data;
    let from = at;
    if (this.head !== null) {
      buf = Buffer.concat([this.head, data.subarray(at)]);
      from = 0;
    }
    // A match can straddle the previous piece and this one, so search a little before.
    const idx = buf.indexOf(HEAD_END, Math.max(from, this.head === null ? from : this.head.length - 3));
    if (idx === -1) {
      if (buf.length - from > MAX_HEAD_BYTES) throw new ParseError('response head too large');
      this.head = this.head === null ? Buffer.from(data.subarray(at)) : buf;
      return data.length;
    }
    const consumedFromData = this.head === null ? idx + 4 - at : idx + 4 - this.head.length;
    this.parseHead(buf.toString('latin1', from, idx));
    this.head = null;
    return at + consumedFromData;
  }

  private parseHead(text: string): void {
    if (!text.startsWith('HTTP/1.')) throw new ParseError('not an HTTP/1.x response');
    const status = Number(text.slice(9, 12));
    if (!Number.isInteger(status) || status < 100) throw new ParseError('bad status line');
    const { length: lengthText, transferEncoding, connection } = framing(text);
    const length = lengthText === null ? -1 : Number(lengthText);
    const chunked = transferEncoding?.endsWith('chunked') ?? false;
    const close = connection === null ? text.startsWith('HTTP/1.0') : connection.includes('close');
    if (status < 200) return; // 1xx: the real answer follows
    this.status = status;
    this.headText = text;
    this.close = close;
    if (status === 204 || status === 304) this.emit();
    else if (chunked) this.state = State.ChunkSize;
    else if (length >= 0 && Number.isSafeInteger(length)) {
      this.remaining = length;
      if (length === 0) this.emit();
      else this.state = State.Body;
    } else {
      this.close = true;
      this.state = State.UntilClose;
    }
  }

  private endLine(line: string): void {
    this.line = '';
    if (this.state === State.ChunkEnd) {
      if (line !== '') throw new ParseError('missing CRLF after chunk');
      this.state = State.ChunkSize;
    } else if (this.state === State.ChunkSize) {
      const semi = line.indexOf(';');
      const size = parseInt(semi === -1 ? line : line.slice(0, semi), 16);
      if (!Number.isSafeInteger(size) || size < 0) throw new ParseError('bad chunk size');
      if (size === 0) this.state = State.Trailer;
      else {
        this.remaining = size;
        this.state = State.ChunkData;
      }
    } else if (line === '') {
      this.emit();
    }
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.bodyBytes += part.length;
  }

  private emit(): void {
    const parts = this.parts;
    const body = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.bodyBytes);
    this.parts = [];
    this.bodyBytes = 0;
    this.state = State.Head;
    this.started = false;
    const head = this.headText;
    this.headText = '';
    this.sink(this.status, body, this.close, head);
  }
}
