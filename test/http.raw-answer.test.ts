/**
 * lib/http/raw-answer.ts: an answer written as one string below ServerResponse's header
 * machinery must be byte for byte what writeHead + end would have sent (Date aside), and leave
 * the connection exactly as Node would: kept alive, closed when asked, pipelined answers in order.
 */
import { expect } from 'chai';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { headerLines, rawAnswers, writeRawAnswer } from '../lib/http/raw-answer.js';

const PAIRS = ['X-Content-Type-Options', 'nosniff', 'Cache-Control', 'no-store', 'X-Request-Id', 'trace-1'];
const BODY = '{"text":"goal ⚽ for Köln"}';

/** Answers /raw with writeRawAnswer and /head with writeHead + end, same headers and body. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const bytes = Buffer.from(BODY, 'utf8');
  const close = req.url?.includes('close=1') === true;
  if (req.url?.startsWith('/raw')) {
    const lines = `${headerLines(PAIRS)}Content-Type: application/json; charset=utf-8\r\nContent-Length: ${bytes.length}\r\n`;
    return writeRawAnswer(res, 200, lines, bytes.toString('latin1'), close);
  }
  const head = [...PAIRS, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(bytes.length)];
  if (close) head.push('Connection', 'close');
  res.writeHead(200, head);
  res.end(bytes);
}

/** Writes `text` on a fresh socket and collects everything until the server closes it or `ms` pass. */
function exchange(port: number, text: string, ms = 300): Promise<{ data: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let closedByServer = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closedByServer });
    }, ms);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('end', () => {
      closedByServer = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closedByServer });
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

/** The answers in `data` with Date blanked (it may tick between the two). */
function withoutDate(data: string): string {
  return data.replace(/\r\nDate: [^\r]*\r\n/g, '\r\nDate: -\r\n');
}

describe('writeRawAnswer(res, status, lines, body, close)', () => {
  let server: http.Server;
  let port: number;

  before(async () => {
    server = http.createServer(handler);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is supported by this Node', () => {
    expect(rawAnswers()).to.equal(true);
  });

  const cases: Array<[string, (path: string) => string]> = [
    ['a keep-alive HTTP/1.1 request', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['a request asking Connection: close', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
    ['an HTTP/1.0 request', (p) => `GET ${p} HTTP/1.0\r\n\r\n`],
    ['an HTTP/1.0 request asking keep-alive', (p) => `GET ${p} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`],
    ['an answer that closes (a drain)', (p) => `GET ${p}?close=1 HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['two pipelined requests', (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\nGET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ];
  for (const [name, request] of cases) {
    it(`sends what writeHead + end sends, and leaves the connection as it does, for ${name}`, async () => {
      const raw = await exchange(port, request('/raw'));
      const viaHead = await exchange(port, request('/head'));
      expect(raw.data).to.include(Buffer.from(BODY, 'utf8').toString('latin1'));
      expect(withoutDate(raw.data)).to.equal(withoutDate(viaHead.data));
      expect(raw.closedByServer, 'closed by the server').to.equal(viaHead.closedByServer);
    });
  }

  it('keeps the socket usable for the next request and closes it after the last one a socket may carry', async () => {
    server.maxRequestsPerSocket = 2;
    try {
      const two = `GET /raw HTTP/1.1\r\nHost: x\r\n\r\nGET /raw HTTP/1.1\r\nHost: x\r\n\r\n`;
      const raw = await exchange(port, two);
      const viaHead = await exchange(port, two.replaceAll('/raw', '/head'));
      expect(raw.data.match(/HTTP\/1\.1 200 OK/g)).to.have.length(2);
      expect(withoutDate(raw.data)).to.equal(withoutDate(viaHead.data));
      expect(raw.closedByServer).to.equal(true);
    } finally {
      server.maxRequestsPerSocket = 0;
    }
  });
});
