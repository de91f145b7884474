import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Config } from '../config.js';
import { CONTENT_SECURITY_POLICY } from './headers.js';

type Server = http.Server | https.Server;

/** The JSON answer for what the HTTP parser refuses before Koa sees the request. */
function parserRefusal(code: string | undefined): string {
  const tooLarge = code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    error: tooLarge
      ? { code: 'headers_too_large', message: 'request headers are too large' }
      : { code: 'invalid_request', message: 'the request could not be parsed as HTTP/1.1' },
  });
  const reason = tooLarge ? 'Request Header Fields Too Large' : 'Bad Request';
  const headers = [
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'X-Content-Type-Options: nosniff',
    `Content-Security-Policy: ${CONTENT_SECURITY_POLICY}`,
    'Cross-Origin-Resource-Policy: same-origin',
    'Cache-Control: no-store',
    'Connection: close',
  ];
  return `HTTP/1.1 ${status} ${reason}\r\n${headers.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Creates the HTTP(S) server for the app, with timeouts fit for long holds and JSON answers for
 * requests the parser refuses. Does not listen.
 */
export function createServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  config: Pick<Config, 'tlsCert' | 'tlsKey'> & Partial<Pick<Config, 'maxHeaderBytes' | 'maxConnections'>>,
  /** Takes WebSocket upgrades (lib/http/realtime.ts); without it they are refused. */
  upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void,
): Server {
  // Headers beyond this are answered 431 by clientError below, before any of them is parsed into an object.
  const options = { maxHeaderSize: config.maxHeaderBytes ?? 16_384 };
  const server: Server =
    config.tlsCert && config.tlsKey
      ? https.createServer({ ...options, cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }, handler)
      : http.createServer(options, handler);
  // Keep idle keep-alive sockets longer than common load balancers (60 s) so they close first;
  // headersTimeout above it, or Node cuts idle keep-alive sockets with a 408.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 120_000;
  trackRequests(server);
  // Every open socket costs memory and a descriptor: past MAX_CONNECTIONS new ones are closed at
  // accept (Node's 'drop'), so a flood of idle sockets cannot exhaust the process's descriptors.
  server.maxConnections = config.maxConnections ?? 100_000;
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (upgrade) return upgrade(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(parserRefusal(err.code));
  });
  return server;
}

/** Something that holds connections of its own open (SSE streams, WebSockets): drained, then cut. */
export interface StreamTransport {
  /** Ends what the hub's drain did not (sockets following nothing). */
  drain(): void;
  /** Resolves once none of its connections is left open. */
  settled(): Promise<void>;
  /** Cuts whatever is still open and stops its timers; idempotent. */
  close(): void;
}

/** Listens and resolves with the bound port. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A deep backlog absorbs the reconnect burst after a publish answers thousands of polls.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Requests in flight per server: from its `request` event until its response's `close`. */
const inFlight = new WeakMap<Server, { count: number; idle: Set<() => void> }>();

/** Counts the server's requests in flight, for drainServer (createServer does this). */
export function trackRequests(server: Server): void {
  if (inFlight.has(server)) return;
  const state = { count: 0, idle: new Set<() => void>() };
  inFlight.set(server, state);
  // One shared listener, no closure per request: this runs on every poll.
  const closed = () => {
    state.count -= 1;
    if (state.count === 0) for (const wake of [...state.idle]) wake();
  };
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    state.count += 1;
    res.on('close', closed);
  });
}

/** What a drain of the HTTP server did: how many requests were still in flight at its deadline. */
export interface ServerDrain {
  cut: number;
}

/**
 * Stops listening and closes every connection as soon as no request is in flight, or at
 * `deadlineMs` at the latest (then the requests still running are cut, and counted). Counting
 * requests, not connections: Node's closeIdleConnections() never closes a connection that has
 * not completed a first request (a fetch's spare socket after an abort, a browser preconnect,
 * a health check's open), so waiting for the listener to close would wait the whole deadline.
 */
export async function drainServer(server: Server, deadlineMs: number, streams: readonly StreamTransport[] = []): Promise<ServerDrain> {
  trackRequests(server);
  const state = inFlight.get(server)!;
  const started = Date.now();
  // Streams were told by the hub's drain (their end events are on their way); sockets that
  // follow nothing are told now. WebSockets are no requests: they are waited for apart.
  for (const s of streams) s.drain();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive connections between requests go now; busy ones once their answer is written.
  server.closeIdleConnections();
  let cut = 0;
  if (state.count > 0) {
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const none = new Promise<void>((resolve) => state.idle.add((wake = resolve)));
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineMs))));
    await Promise.race([none, deadline]);
    clearTimeout(timer);
    state.idle.delete(wake!);
    cut = state.count;
  }
  if (streams.length > 0) {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineMs - (Date.now() - started)))));
    await Promise.race([Promise.all(streams.map((s) => s.settled())), deadline]);
    clearTimeout(timer);
  }
  for (const s of streams) s.close();
  // Whatever is left holds no request of ours (or only those we cut): close it all.
  server.closeAllConnections();
  await closed;
  return { cut };
}
