/**
 * The simulator's streaming connections: one SSE request (EventSource's framing, parsed as it
 * arrives) or one WebSocket, each handing every message's text to its viewer. Both speak
 * holdline's streams (docs/PROTOCOL.md, Streams) and Nchan's (`/stream/:id`: EventSource or
 * WebSocket, each message one of our deltas).
 */
import http from 'node:http';
import WebSocket from 'ws';

/** What a stream tells its viewer. */
export interface StreamHandler {
  /** One message: an SSE event's data (with its event name) or a WebSocket text message. */
  onMessage(text: string, event: string): void;
  /** The stream could not open: an HTTP status or a socket error code. */
  onRefused(key: string): void;
  /** The stream closed after opening (by the server or the network). */
  onClosed(code: string): void;
}

/** A stream that can be stopped. */
export interface StreamConn {
  close(): void;
}

/** Opens an SSE stream: `path` with `lastEventId` as Last-Event-ID when given. */
export function openSseStream(host: string, port: number, localAddress: string | undefined, path: string, lastEventId: string | null, handler: StreamHandler): StreamConn {
  let closed = false;
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId !== null && lastEventId !== '') headers['last-event-id'] = lastEventId;
  const req = http.get({ host, port, path, headers, agent: false, ...(localAddress ? { localAddress } : {}) }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      if (!closed) handler.onRefused(String(res.statusCode));
      closed = true;
      return;
    }
    res.setEncoding('utf8');
    let buffer = '';
    let data = '';
    let event = 'message';
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      let from = 0;
      while ((nl = buffer.indexOf('\n', from)) >= 0) {
        const line = buffer.slice(from, nl);
        from = nl + 1;
        if (line === '') {
          if (data !== '' && !closed) handler.onMessage(data, event);
          data = '';
          event = 'message';
        } else if (line.startsWith('data:')) {
          const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
          data = data === '' ? value : `${data}\n${value}`;
        } else if (line.startsWith('event:')) {
          event = line.slice(6).trim();
        }
        // id:, retry: and comments need nothing: the viewer keeps the cursor itself.
      }
      buffer = buffer.slice(from);
    });
    res.on('close', () => {
      if (closed) return;
      closed = true;
      handler.onClosed('closed');
    });
  });
  req.on('error', (err: NodeJS.ErrnoException) => {
    if (closed) return;
    closed = true;
    handler.onRefused(err.code ?? 'error');
  });
  return {
    close() {
      closed = true;
      req.destroy();
    },
  };
}

/** Opens a WebSocket to `path` and sends `first` once open. */
export function openWsStream(host: string, port: number, localAddress: string | undefined, path: string, first: string | null, handler: StreamHandler): StreamConn {
  let closed = false;
  let opened = false;
  const ws = new WebSocket(`ws://${host}:${port}${path}`, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
  ws.on('open', () => {
    opened = true;
    if (first !== null) ws.send(first);
  });
  ws.on('message', (data, isBinary) => {
    if (!closed && !isBinary) handler.onMessage(data.toString(), 'message');
  });
  ws.on('unexpected-response', (_req, res) => {
    res.resume();
    if (closed) return;
    closed = true;
    handler.onRefused(String(res.statusCode));
    ws.terminate();
  });
  ws.on('error', (err: NodeJS.ErrnoException) => {
    if (closed) return;
    closed = true;
    if (opened) handler.onClosed(err.code ?? 'error');
    else handler.onRefused(err.code ?? 'error');
  });
  ws.on('close', (code) => {
    if (closed) return;
    closed = true;
    handler.onClosed(`ws_${code}`);
  });
  return {
    close() {
      closed = true;
      ws.terminate();
    },
  };
}
