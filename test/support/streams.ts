/**
 * Stream clients for the tests: an SSE reader on a raw HTTP request (events parsed as
 * EventSource does) and a WebSocket client that queues messages, each with `next()` to await
 * what comes.
 */
import http from 'node:http';
import WebSocket from 'ws';

/** One parsed SSE event (or a comment, when `comment` is set). */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
  retry: number | null;
  comment: boolean;
}

/** A queue of things that arrive, awaited one at a time. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(v: T | null) => void> = [];
  closed = false;

  push(item: T): void {
    const w = this.waiters.shift();
    if (w) w(item);
    else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(null);
  }

  /** The next item, or null once closed; fails after timeoutMs. */
  next(timeoutMs: number, what: string): Promise<T | null> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const done = (v: T | null) => {
        clearTimeout(timer);
        resolve(v);
      };
      this.waiters.push(done);
    });
  }

  get pending(): number {
    return this.items.length;
  }
}

export interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body when the answer is not a stream (an error). */
  body: string;
  /** The next event (comments included when `comments`), or null when the stream closed. */
  next(options?: { comments?: boolean; timeoutMs?: number }): Promise<SseEvent | null>;
  /** The next event's data parsed, skipping comments; fails when the stream closed first. */
  json<T = Record<string, unknown>>(timeoutMs?: number): Promise<{ event: SseEvent; body: T }>;
  /** Stops reading (the socket's buffers then fill up: a slow consumer). */
  pause(): void;
  close(): void;
  /** Resolves when the server ended the response. */
  ended: Promise<void>;
  res: http.IncomingMessage;
}

/** Opens an SSE stream; resolves once the status line and headers are in. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      const inbox = new Inbox<SseEvent>();
      let buffer = '';
      let body = '';
      let current: SseEvent = { id: null, event: 'message', data: '', retry: null, comment: false };
      let dataLines: string[] = [];
      res.setEncoding('utf8');
      const ended = new Promise<void>((done) => {
        res.on('end', () => {
          inbox.close();
          done();
        });
        res.on('close', () => {
          inbox.close();
          done();
        });
      });
      const stream = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
      res.on('data', (chunk: string) => {
        if (!stream) {
          body += chunk;
          return;
        }
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (dataLines.length > 0 || current.id !== null || current.retry !== null) {
              current.data = dataLines.join('\n');
              inbox.push(current);
            }
            current = { id: null, event: 'message', data: '', retry: null, comment: false };
            dataLines = [];
            continue;
          }
          if (line.startsWith(':')) {
            inbox.push({ id: null, event: '', data: line.slice(1), retry: null, comment: true });
            continue;
          }
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') dataLines.push(value);
          else if (field === 'id') current.id = value;
          else if (field === 'event') current.event = value;
          else if (field === 'retry') current.retry = Number(value);
        }
      });
      const client: SseClient = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        get body() {
          return body;
        },
        async next(options = {}) {
          for (;;) {
            const e = await inbox.next(options.timeoutMs ?? 10_000, 'an SSE event');
            if (e === null || !e.comment || options.comments) return e;
          }
        },
        async json<T>(timeoutMs = 10_000) {
          for (;;) {
            const e = await inbox.next(timeoutMs, 'an SSE event');
            if (e === null) throw new Error('the stream closed');
            if (e.comment || e.data === '') continue;
            return { event: e, body: JSON.parse(e.data) as T };
          }
        },
        pause: () => res.pause(),
        close: () => req.destroy(),
        ended,
        res,
      };
      if (!stream) res.on('end', () => resolve(client));
      else resolve(client);
    });
    req.on('error', reject);
  });
}

export interface WsClient {
  ws: WebSocket;
  send(msg: unknown): void;
  /** The next message parsed (or null once closed). */
  next<T = Record<string, unknown>>(timeoutMs?: number): Promise<T | null>;
  /** The next message of `type` (answers have none: pass 'answer'), skipping others. */
  nextOf<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
  pending(): number;
}

/** Opens a WebSocket; rejects with the HTTP status of a refused upgrade. */
export function openWs(url: string, options: { protocols?: string[]; headers?: Record<string, string>; origin?: string } = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {}, ...(options.origin ? { origin: options.origin } : {}), perMessageDeflate: false });
    const inbox = new Inbox<Record<string, unknown>>();
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.on('close', (code, reason) => {
      inbox.close();
      done({ code, reason: reason.toString() });
    }));
    ws.on('message', (data) => inbox.push(JSON.parse(data.toString()) as Record<string, unknown>));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body: body === '' ? null : JSON.parse(body) })));
    });
    ws.on('error', (err) => reject(err));
    ws.on('open', () =>
      resolve({
        ws,
        send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
        next: <T>(timeoutMs = 10_000) => inbox.next(timeoutMs, 'a WebSocket message') as Promise<T | null>,
        async nextOf<T>(type: string, timeoutMs = 10_000) {
          for (;;) {
            const m = await inbox.next(timeoutMs, `a ${type} message`);
            if (m === null) throw new Error(`the socket closed before a ${type} message`);
            if ((m['type'] ?? 'answer') === type) return m as T;
          }
        },
        closed,
        close: () => ws.close(),
        pending: () => inbox.pending,
      }),
    );
  });
}
