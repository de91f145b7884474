import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDuration } from '../tools/simulator/cli.js';
import { SourceAddresses } from '../tools/simulator/http-conn.js';
import { PacedSender } from '../tools/simulator/paced-sender.js';
import { ResponseParser } from '../tools/simulator/response-parser.js';
import { ScoreFeed } from '../tools/simulator/score-feed.js';
import { SeqTrack } from '../tools/simulator/seq-track.js';
import { nchanCursor, nchanDeltas, nchanMessage } from '../tools/simulator/nchan.js';

describe('ResponseParser', () => {
  const wire =
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{"cursor":"a"}' +
    'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{"err\r\n5\r\nor":1\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n' +
    'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n';

  function parseIn(pieces: Buffer[]): Array<[number, string, boolean]> {
    const seen: Array<[number, string, boolean]> = [];
    const parser = new ResponseParser((status, body, close) => seen.push([status, body.toString(), close]));
    for (const piece of pieces) parser.push(piece);
    return seen;
  }

  const expected: Array<[number, string, boolean]> = [
    [200, '{"cursor":"a"}', false],
    [503, '{"error":1}', false],
    [204, '', true],
  ];

  it('parses Content-Length, chunked and empty answers back to back on one connection', () => {
    expect(parseIn([Buffer.from(wire, 'latin1')])).to.deep.equal(expected);
  });

  it('gives the same answers however the bytes are split', () => {
    const bytes = Buffer.from(wire, 'latin1');
    for (let size = 1; size <= 7; size++) {
      const pieces: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
      expect(parseIn(pieces), `pieces of ${size}`).to.deep.equal(expected);
    }
  });

  it('reads the framing headers in any case, among many others', () => {
    const many = Array.from({ length: 12 }, (_, i) => `X-Header-${i}: connection: close`).join('\r\n');
    const wire = `HTTP/1.1 200 OK\r\n${many}\r\ncontent-LENGTH: 2\r\nCONNECTION: Close\r\n\r\nok` + 'HTTP/1.1 200 OK\r\nTRANSFER-encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n';
    expect(parseIn([Buffer.from(wire, 'latin1')])).to.deep.equal([
      [200, 'ok', true],
      [200, 'hi', false],
    ]);
  });

  it('refuses bytes that are not an HTTP response', () => {
    expect(() => parseIn([Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')])).to.throw(/not an HTTP/);
  });
});

describe('SeqTrack', () => {
  it('counts a jump as gaps and a late arrival as out-of-order, not as a gap', () => {
    const t = new SeqTrack(false);
    t.join(0);
    for (const seq of [1, 2, 4, 3, 5, 5, 8]) t.delta(seq, true);
    expect(t).to.include({ gaps: 2, duplicates: 1, outOfOrder: 1, delivered: 7, last: 8 });
  });

  it('counts a reset and adds what it missed to the gaps', () => {
    const t = new SeqTrack(false);
    t.join(10);
    t.delta(11, true);
    t.reset(20, 9);
    t.delta(21, true);
    t.reset(0, null);
    expect(t).to.include({ gaps: 9, resets: 2, duplicates: 0, last: 0 });
  });

  it('with a kinds filter, counts only our own updates that never came', () => {
    const t = new SeqTrack(true);
    t.join(0);
    // Ours were 2, 4, 6 and 9; 1, 3, 5, 7, 8 were other kinds, filtered out by the server.
    for (const seq of [2, 6, 4, 9]) t.delta(seq, true);
    t.finish((from, to) => [2, 4, 6, 9, 11].filter((s) => s > from && s <= to).length);
    expect(t).to.include({ gaps: 0, outOfOrder: 1, duplicates: 0 });
    const lossy = new SeqTrack(true);
    lossy.join(0);
    lossy.delta(2, true);
    lossy.delta(9, true);
    lossy.finish((from, to) => [2, 4, 6, 9].filter((s) => s > from && s <= to).length);
    expect(lossy.gaps).to.equal(2);
  });
});

describe('ScoreFeed', () => {
  const bodies = (seed: number): string[] => {
    const feed = new ScoreFeed(['a', 'b'], seed);
    return Array.from({ length: 60 }, (_, i) => feed.body(i, 0));
  };

  it('gives the same schedule for the same seed and another for another seed', () => {
    expect(bodies(7)).to.deep.equal(bodies(7));
    expect(bodies(7)).to.not.deep.equal(bodies(8));
  });

  it('sends patches with a sentAt stamp and a full set every 25 updates', () => {
    const feed = new ScoreFeed(['a'], 1);
    const parsed = Array.from({ length: 26 }, (_, i) => JSON.parse(feed.body(i, 1234.5)) as { op: string; data: { sentAt: number } });
    expect(parsed.map((p) => p.op).filter((op) => op === 'set')).to.have.length(2);
    expect(parsed.every((p) => p.data.sentAt === 1234.5)).to.equal(true);
  });
});

describe('parseDuration(text)', () => {
  it('reads seconds, milliseconds and minutes, a bare number as seconds', () => {
    expect([parseDuration('30s', 'd'), parseDuration('500ms', 'd'), parseDuration('2m', 'd'), parseDuration('1.5', 'd')]).to.deep.equal([
      30_000, 500, 120_000, 1500,
    ]);
    expect(() => parseDuration('soon', 'ramp')).to.throw('--ramp must be a duration');
  });
});

describe('SourceAddresses', () => {
  it('lets the kernel choose for small loopback runs and for remote hosts', () => {
    expect(new SourceAddresses('127.0.0.1', 5000).addressFor(4999)).to.equal(undefined);
    expect(new SourceAddresses('10.0.0.7', 50_000).addressFor(3)).to.equal(undefined);
  });

  it('spreads a large loopback run over 127.0.0.x and moves on when an address runs out', () => {
    const sources = new SourceAddresses('127.0.0.1', 19_000);
    expect([0, 1, 2, 3].map((slot) => sources.addressFor(slot))).to.deep.equal([undefined, '127.0.0.2', '127.0.0.3', undefined]);
    expect(sources.exhausted(1, '127.0.0.2')).to.equal(true);
    expect(sources.addressFor(1)).to.equal('127.0.0.3');
    // Another connection failing on the old address must not move the pool twice.
    expect(sources.exhausted(1, '127.0.0.2')).to.equal(true);
    expect(sources.addressFor(1)).to.equal('127.0.0.3');
  });
});

describe('PacedSender (the publisher and the reaction flood)', () => {
  /** A server that counts connections and answers each POST 201 after `delayMs`. */
  async function countingServer(delayMs = 0) {
    const seen = { connections: 0, requests: 0, connectionsAtFirstRequest: -1 };
    const server = http.createServer((req, res) => {
      if (seen.requests++ === 0) seen.connectionsAtFirstRequest = seen.connections;
      req.resume();
      req.on('end', () => setTimeout(() => res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"seq":1}'), delayMs));
    });
    server.on('connection', () => seen.connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    return { seen, port, close };
  }

  it('opens its whole pool before the schedule starts, so no request waits for a handshake', async () => {
    const srv = await countingServer();
    const answers: Array<[number, number]> = [];
    const sender = new PacedSender({
      host: '127.0.0.1', port: srv.port, hostHeader: 'x', sources: new SourceAddresses('127.0.0.1'), rate: 200, count: 20, maxInFlight: 6,
      now: () => performance.now(), make: (i) => ({ path: `/p/${i}`, body: '{}' }), onAnswer: (_i, status, _body, ms) => answers.push([status, ms]),
    });
    try {
      await sender.prepare();
      // Open on the client's side; the server accepts them on its next turns.
      for (let i = 0; i < 100 && srv.seen.connections < 6; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(srv.seen.connections).to.equal(6);
      expect(srv.seen.requests).to.equal(0);
      sender.start();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => answers.length === 20 && (clearInterval(check), resolve()), 5);
      });
      expect(srv.seen.connectionsAtFirstRequest).to.equal(6);
      expect(srv.seen.connections, 'no connection opened after the start').to.equal(6);
      expect(answers.every(([status, ms]) => status === 201 && ms >= 0)).to.equal(true);
    } finally {
      await sender.stop(0);
      await srv.close();
    }
  });

  it('reports a refused connection as the failed request it was for', async () => {
    const srv = await countingServer();
    await srv.close();
    const answers: Array<[number, string]> = [];
    const sender = new PacedSender({
      host: '127.0.0.1', port: srv.port, hostHeader: 'x', sources: new SourceAddresses('127.0.0.1'), rate: 100, count: 3, maxInFlight: 2,
      now: () => performance.now(), make: () => ({ path: '/p', body: '{}' }), onAnswer: (_i, status, body) => answers.push([status, body.toString()]),
    });
    try {
      await sender.prepare();
      sender.start();
      await new Promise<void>((resolve) => {
        const check = setInterval(() => answers.length === 3 && (clearInterval(check), resolve()), 5);
      });
      expect(answers).to.deep.equal([[0, 'ECONNREFUSED'], [0, 'ECONNREFUSED'], [0, 'ECONNREFUSED']]);
    } finally {
      await sender.stop(0);
    }
  });
});

describe('the Nchan dialect (tools/simulator/nchan.ts)', () => {
  // Bytes as Nchan 1.3.6 sends them for a long-poll with three messages waiting.
  const head =
    'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: multipart/mixed; boundary=DROdZwscMot.3GrqSoqLYh3TDnXvzPpD\r\n' +
    'Content-Length: 332\r\nLast-Modified: Tue, 01 Dec 2026 21:45:03 GMT\r\nConnection: keep-alive\r\nEtag: 2\r\nVary: If-None-Match, If-Modified-Since';
  const part = (seq: number): string => `--DROdZwscMot.3GrqSoqLYh3TDnXvzPpD\r\nContent-Type: application/json\r\n\r\n{"seq":${seq},"kind":"score","data":{}}\r\n`;
  const body = Buffer.from(`${part(1)}${part(2)}${part(3)}--DROdZwscMot.3GrqSoqLYh3TDnXvzPpD--\r\n`);

  it('reads every message of a multipart answer, in order', () => {
    expect(nchanDeltas(head, body).map((d) => d.seq)).to.deep.equal([1, 2, 3]);
  });

  it('reads a single message sent as it is', () => {
    const single = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nEtag: 0';
    expect(nchanDeltas(single, Buffer.from('{"seq":7}'))).to.deep.equal([{ seq: 7 }]);
  });

  it('turns Last-Modified and Etag into the next poll\'s conditional headers', () => {
    expect(nchanCursor(head)).to.equal('If-Modified-Since: Tue, 01 Dec 2026 21:45:03 GMT\r\nIf-None-Match: 2\r\n');
    expect(nchanCursor('HTTP/1.1 408 Request Timeout\r\nContent-Length: 0')).to.equal('');
  });

  it('refuses a multipart answer cut short', () => {
    expect(() => nchanDeltas(head, Buffer.from(part(1)))).to.throw(/closing delimiter/);
  });

  it('wraps a score update with the seq the simulator numbered it with', () => {
    const message = JSON.parse(nchanMessage(4, 12.5, '{"op":"patch"}')) as { seq: number; kind: string; data: { sentAt: number; update: unknown } };
    expect(message).to.deep.equal({ seq: 4, kind: 'score', data: { sentAt: 12.5, update: { op: 'patch' } } });
  });
});
