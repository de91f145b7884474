import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
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
  config: Pick<Config, 'tlsCert' | 'tlsKey'> & Partial<Pick<Config, 'maxHeaderBytes'>>,
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
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(parserRefusal(err.code));
  });
  return server;
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
