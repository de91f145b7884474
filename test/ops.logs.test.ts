import { expect } from 'chai';
import { redactQuery } from '../lib/ops/log.js';
import { LogCapture } from './support/logs.js';
import { until } from './support/metrics.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('request logs', () => {
  let t: TestServer;
  let logs: LogCapture;
  const requestLines = () => logs.find('request');

  beforeEach(async () => {
    logs = new LogCapture();
    t = await startTestServer({}, { logs });
  });
  afterEach(() => t.close());

  it('writes one JSON line per request with id, method, path, status and duration, and echoes the id', async () => {
    const res = await fetch(`${t.url}/events`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(res.headers.get('x-request-id')).to.equal('trace-abc.123');
    await until(() => requestLines().length === 1, 'the request line');
    const [line] = requestLines();
    expect(line).to.include({ level: 'info', reqId: 'trace-abc.123', method: 'GET', path: '/events', route: '/events', status: 200 });
    expect(line!['durationMs']).to.be.a('number');
    expect(line!['time']).to.be.a('string');
  });

  it('makes a new request id when the incoming one is not sane', async () => {
    for (const bad of ['has space', 'x'.repeat(129), '']) {
      const res = await fetch(`${t.url}/healthz`, { headers: bad === '' ? {} : { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id')!;
      expect(id).to.match(/^[0-9a-f-]{36}$/);
    }
    expect((await fetch(`${t.url}/healthz`, { headers: { 'x-request-id': 'x'.repeat(128) } })).headers.get('x-request-id')).to.have.length(128);
  });

  it('never logs a token, from the Authorization header or the access_token parameter', async () => {
    const token = await t.token({ sub: 'viewer-1' });
    await fetch(`${t.url}/events`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${t.url}/events?access_token=${token}&viewer=v1`);
    await fetch(`${t.url}/events?access%5Ftoken=${token}`);
    await fetch(`${t.url}/events/m1/poll?ACCESS_TOKEN=${token}`);
    await until(() => requestLines().length === 4, 'four request lines');
    expect(logs.text).to.not.include(token);
    expect(logs.text).to.not.include(token.split('.')[2]!);
    const queries = requestLines().map((l) => l['query']);
    expect(queries).to.deep.equal([undefined, 'access_token=[redacted]&viewer=v1', 'access%5Ftoken=[redacted]', 'ACCESS_TOKEN=[redacted]']);
  });

  it('logs a 5xx cause at error with the request id, and hides it from the client', async () => {
    t.service.hub.listEvents = async () => {
      throw new Error('disk on fire');
    };
    const res = await fetch(`${t.url}/events`, { headers: { 'x-request-id': 'boom-1' } });
    expect(res.status).to.equal(500);
    expect(await res.text()).to.not.include('disk on fire');
    await until(() => requestLines().length === 1, 'the request line');
    const [cause] = logs.find('request failed');
    expect(cause).to.include({ level: 'error', reqId: 'boom-1', method: 'GET', path: '/events' });
    expect((cause!['err'] as { message: string }).message).to.equal('disk on fire');
    expect(requestLines()[0]).to.include({ level: 'error', status: 500 });
  });

  it('logs probes at debug, so LOG_LEVEL=info keeps them out', async () => {
    await fetch(`${t.url}/healthz`);
    await fetch(`${t.url}/events`);
    await until(() => requestLines().length === 1, 'the request line');
    expect(requestLines()[0]).to.include({ path: '/events' });
  });

  it('honours LOG_LEVEL', async () => {
    const quiet = new LogCapture();
    const q = await startTestServer({ LOG_LEVEL: 'warn' }, { logs: quiet });
    try {
      await fetch(`${q.url}/events`);
      expect((await fetch(`${q.url}/events/nope`)).status).to.equal(404);
      await q.close();
      expect(quiet.find('request')).to.deep.equal([]);
    } finally {
      await q.close();
    }
  });
});

describe('redactQuery(query)', () => {
  it('replaces access_token values however the name is written, keeps the rest', () => {
    expect(redactQuery('')).to.equal('');
    expect(redactQuery('a=1&access_token=abc&b=2')).to.equal('a=1&access_token=[redacted]&b=2');
    expect(redactQuery('access_token')).to.equal('access_token=[redacted]');
    expect(redactQuery('access%5ftoken=x&access+token=y')).to.equal('access%5ftoken=[redacted]&access+token=y');
    expect(redactQuery('cursor=k-1&viewer=v')).to.equal('cursor=k-1&viewer=v');
  });
});
