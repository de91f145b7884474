import { expect } from 'chai';
import { createServer, type Server, type Socket } from 'node:net';
import { HoldlineClient, HoldlineHttpError, HoldlineNetworkError, NOT_JSON } from '../tools/client.js';

/**
 * What the Node client does with answers that are not holdline's and with requests that get no
 * answer, against a raw TCP server that plays each failure exactly (a proxy's HTML page, a
 * connection closed under a request).
 */
type Play = (socket: Socket, request: string, n: number) => void;

async function rawServer(play: Play): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const request = buffered.slice(0, end + 4 + length);
      buffered = buffered.slice(end + 4 + length);
      requests.push(request);
      play(socket, request, requests.length);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const JSON_OK = (body: string) => `HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nHoldline-Hold: timeout=25, min=0, max=60\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const PROXY_504 = '<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center><hr><center>nginx</center></body></html>\r\n';

describe('tools/client.ts: answers that are not holdline’s, and requests that get none', () => {
  let server: Awaited<ReturnType<typeof rawServer>> | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('raises a HoldlineHttpError with the status for a proxy’s HTML 504, not a SyntaxError', async () => {
    server = await rawServer((socket) => socket.write(`HTTP/1.1 504 Gateway Time-out\r\nContent-Type: text/html\r\nContent-Length: ${PROXY_504.length}\r\n\r\n${PROXY_504}`));
    const err = await new HoldlineClient({ baseUrl: server.url }).poll('m1', 'e1-1').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HoldlineHttpError);
    const e = err as HoldlineHttpError;
    expect([e.status, e.code, e.fromServer]).to.deep.equal([504, NOT_JSON, false]);
    expect(e.message).to.contain('text/html');
    expect(server.requests).to.have.length(1);
  });

  it('raises it for a 200 that is not JSON too (a captive portal), and keeps Retry-After', async () => {
    server = await rawServer((socket, _r, n) =>
      socket.write(n === 1 ? 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 6\r\n\r\n<html>' : 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{"error":'),
    );
    const client = new HoldlineClient({ baseUrl: server.url });
    const first = (await client.getEvent('m1').catch((e: unknown) => e)) as HoldlineHttpError;
    expect([first.status, first.code]).to.deep.equal([200, NOT_JSON]);
    // Says it is JSON but is not: still the status, never a SyntaxError.
    const second = (await client.getEvent('m1').catch((e: unknown) => e)) as HoldlineHttpError;
    expect(second).to.be.instanceOf(HoldlineHttpError);
    expect([second.status, second.code, second.retryAfterS]).to.deep.equal([503, NOT_JSON, 7]);
  });

  it('sends a GET once more when its connection closed before any byte of an answer', async () => {
    server = await rawServer((socket, _r, n) => (n === 1 ? socket.destroy() : socket.write(JSON_OK('{"id":"m1"}'))));
    const answer = await new HoldlineClient({ baseUrl: server.url }).getEvent('m1');
    expect(answer).to.deep.equal({ id: 'm1' });
    expect(server.requests).to.have.length(2);
  });

  it('sends a write again only when it carries an Idempotency-Key', async () => {
    server = await rawServer((socket) => socket.destroy());
    const client = new HoldlineClient({ baseUrl: server.url, token: 't' });
    const keyless = await client.publish.score('m1', { data: { home: 1 } }).catch((e: unknown) => e);
    expect(keyless).to.be.instanceOf(HoldlineNetworkError);
    expect((keyless as HoldlineNetworkError).retried).to.equal(false);
    expect(server.requests).to.have.length(1);
    await server.close();
    server = await rawServer((socket, _r, n) => (n === 1 ? socket.destroy() : socket.write(JSON_OK('{"seq":5,"cursor":"e1-5"}'))));
    const keyed = new HoldlineClient({ baseUrl: server.url, token: 't' });
    expect(await keyed.publish.score('m1', { data: { home: 1 } }, 'goal-1')).to.deep.equal({ seq: 5, cursor: 'e1-5' });
    expect(server.requests).to.have.length(2);
    expect(server.requests.every((r) => /idempotency-key: goal-1/i.test(r))).to.equal(true);
  });

  it('retries once only: a second failure is a HoldlineNetworkError that says so', async () => {
    server = await rawServer((socket) => socket.destroy());
    const err = await new HoldlineClient({ baseUrl: server.url }).getEvent('m1').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HoldlineNetworkError);
    expect((err as HoldlineNetworkError).retried).to.equal(true);
    expect((err as HoldlineNetworkError).status).to.equal(0);
    expect(server.requests).to.have.length(2);
  });

  it('never sends again an answer cut after its head arrived', async () => {
    server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":');
      setTimeout(() => socket.destroy(), 20);
    });
    const err = await new HoldlineClient({ baseUrl: server.url }).getEvent('m1').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(HoldlineNetworkError);
    expect(server.requests).to.have.length(1);
  });

  it('does not retry a poll its caller aborted', async () => {
    server = await rawServer(() => undefined);
    const abort = new AbortController();
    const held = new HoldlineClient({ baseUrl: server.url }).poll('m1', 'e1-1', { signal: abort.signal }).catch((e: unknown) => e);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    expect(((await held) as Error).name).to.equal('AbortError');
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).to.have.length(1);
  });
});
