import { expect } from 'chai';
import http from 'node:http';
import { loadConfig } from '../lib/config.js';
import { addressKey, addressResolver } from '../lib/http/client-address.js';
import { createEvent, freshId, getEvent, startHarness, type Harness } from './support/harness.js';

/** Issue 15, findings 1 and 3: idempotency only where it protects something; limits by real address. */
describe('abuse: Idempotency-Key is honoured only where it protects something', () => {
  let h: Harness;
  before(async () => (h = await startHarness({ IDEMPOTENCY_MAX: '100' })));
  after(() => h.close());

  it("keeps a publisher's record through a flood of anonymous keyed reactions: its retry is replayed, not appended twice", async () => {
    const id = freshId('idem');
    await createEvent(h, id, { state: 'live' });
    const score = () => h.http().post(`/events/${id}/scores`).set('Authorization', `Bearer ${h.publisherToken}`).set('Idempotency-Key', 'score-1').send({ data: { home: 1 } });
    const first = await score();
    expect(first.status).to.equal(201);
    for (let i = 0; i < 120; i++) {
      const res = await h.http().post(`/events/${id}/reactions?viewer=v${i}`).set('Idempotency-Key', `anon-${i}`).send({ emoji: '👏' });
      expect(res.status).to.equal(202);
      expect(res.headers['idempotent-replayed']).to.equal(undefined);
    }
    const head = (await getEvent(h, id)).cursor;
    const retry = await score();
    expect(retry.status).to.equal(201);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(retry.body).to.deep.equal(first.body);
    expect((await getEvent(h, id)).cursor).to.equal(head);
  });

  it('ignores the header on reactions and on anonymous writes (nothing is recorded for them)', async () => {
    const id = freshId('idem-anon');
    await createEvent(h, id, { state: 'live' });
    for (let i = 0; i < 2; i++) {
      const res = await h.http().post(`/events/${id}/reactions`).set('Idempotency-Key', 'same').send({ emoji: '👏' });
      expect(res.status).to.equal(202);
      expect(res.headers['idempotent-replayed']).to.equal(undefined);
    }
    const anonymous = await h.http().post(`/events/${id}/scores`).set('Idempotency-Key', 'anon-score').send({ data: {} });
    expect(anonymous.status).to.equal(401);
  });

  it("honours it on a signed-in viewer's chat: the retry is replayed, one message", async () => {
    const id = freshId('idem-chat');
    await createEvent(h, id, { state: 'live' });
    const fan = await h.token({ sub: 'chatter', name: 'Chatter' });
    const say = () => h.http().post(`/events/${id}/chat`).set('Authorization', `Bearer ${fan}`).set('Idempotency-Key', 'msg-1').send({ text: 'hello' });
    const first = await say();
    const again = await say();
    expect(first.status).to.equal(201);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.body).to.deep.equal(first.body);
    expect((await getEvent(h, id)).snapshot.chat.length).to.equal(1);
  });
});

describe('abuse: limits count real clients', () => {
  it('limits anonymous reactions by address however many viewer ids the client rotates', async () => {
    const h = await startHarness({ RATE_ADDRESS_REACTIONS: '10/10' });
    try {
      const id = freshId('rotate');
      await createEvent(h, id, { state: 'live' });
      const statuses: number[] = [];
      let refused: { headers: Record<string, string>; body: { error: { code: string } } } | null = null;
      for (let i = 0; i < 12; i++) {
        const res = await h.http().post(`/events/${id}/reactions?viewer=rot-${i}`).send({ emoji: '👏' });
        statuses.push(res.status);
        if (res.status === 429) refused ??= res as never;
      }
      expect(statuses.filter((s) => s === 202).length).to.equal(10);
      expect(refused!.body.error.code).to.equal('rate_limited');
      expect(Number(refused!.headers['retry-after'])).to.be.at.least(1);
      // A signed-in fan is not held to the address's anonymous budget.
      const fan = await h.token({ sub: 'fan-with-token' });
      expect((await h.http().post(`/events/${id}/reactions`).set('Authorization', `Bearer ${fan}`).send({ emoji: '👏' })).status).to.equal(202);
    } finally {
      await h.close();
    }
  });

  /** A held poll from 127.0.0.1 claiming to be `forwardedFor`; resolves with the status once answered or held. */
  const park = (url: string, id: string, forwardedFor: string | null, agent: http.Agent): Promise<number | 'held'> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = forwardedFor === null ? {} : { 'X-Forwarded-For': forwardedFor };
      const req = http.get(`${url}/events/${id}/poll?cursor=${encodeURIComponent(cursorOf.get(id)!)}&timeout=30`, { agent, headers }, (res) => {
        resolve(res.statusCode!);
        res.resume();
      });
      req.on('error', reject);
      setTimeout(() => resolve('held'), 300);
    });
  const cursorOf = new Map<string, string>();

  it('without TRUSTED_PROXIES believes no X-Forwarded-For: a client cannot claim fresh addresses past the hold cap', async () => {
    const h = await startHarness({ MAX_HELD_PER_ADDRESS: '1' });
    const agent = new http.Agent({ keepAlive: false });
    try {
      const id = freshId('cap');
      cursorOf.set(id, (await createEvent(h, id)).cursor);
      expect(await park(h.url, id, '198.51.100.1', agent)).to.equal('held');
      expect(await park(h.url, id, '198.51.100.2', agent)).to.equal(429);
    } finally {
      agent.destroy();
      await h.close();
    }
  });

  it('behind TRUSTED_PROXIES counts each real client, and a client cannot prepend its way out', async () => {
    const h = await startHarness({ MAX_HELD_PER_ADDRESS: '1', TRUSTED_PROXIES: '127.0.0.1/32' });
    const agent = new http.Agent({ keepAlive: false });
    try {
      const id = freshId('proxied');
      cursorOf.set(id, (await createEvent(h, id)).cursor);
      expect(await park(h.url, id, '198.51.100.1', agent)).to.equal('held');
      expect(await park(h.url, id, '198.51.100.2', agent)).to.equal('held');
      // Whatever it writes to the left, the proxy's entry for it is the one counted.
      expect(await park(h.url, id, '10.9.9.9, 198.51.100.1', agent)).to.equal(429);
      // One IPv6 host has its whole /64: rotating within it is one client.
      expect(await park(h.url, id, '2001:db8:1:2::1', agent)).to.equal('held');
      expect(await park(h.url, id, '2001:db8:1:2:ffff::9', agent)).to.equal(429);
      expect(await park(h.url, id, '2001:db8:1:3::1', agent)).to.equal('held');
    } finally {
      agent.destroy();
      await h.close();
    }
  });

  it('reads TRUSTED_PROXIES as a hop count or CIDRs, and refuses anything else naming the variable', () => {
    expect(loadConfig({ TRUSTED_PROXIES: '2' }).trustedProxies).to.deep.equal({ hops: 2 });
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, fd00::/8' }).trustedProxies).to.deep.equal({ cidrs: ['10.0.0.0/8', 'fd00::/8'] });
    for (const bad of ['0', '10.0.0.0/33', 'proxy.local', '1.2.3.4/8/1']) expect(() => loadConfig({ TRUSTED_PROXIES: bad }), bad).to.throw(/TRUSTED_PROXIES/);
    const req = (remote: string, xff?: string) => ({ socket: { remoteAddress: remote }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as never;
    const hops = addressResolver({ hops: 1 });
    expect(hops(req('10.0.0.5', '203.0.113.9'))).to.equal('203.0.113.9');
    expect(hops(req('10.0.0.5', '1.1.1.1, 203.0.113.9'))).to.equal('203.0.113.9');
    expect(hops(req('10.0.0.5'))).to.equal('10.0.0.5');
    const cidrs = addressResolver({ cidrs: ['10.0.0.0/8'] });
    expect(cidrs(req('192.0.2.1', '203.0.113.9'))).to.equal('192.0.2.1');
    expect(cidrs(req('10.0.0.5', '203.0.113.9, 10.1.1.1'))).to.equal('203.0.113.9');
    expect(addressKey('::ffff:192.0.2.7')).to.equal('192.0.2.7');
    expect(addressKey('2001:db8:0:1:2:3:4:5')).to.equal('2001:db8:0:1::/64');
    expect(addressKey('2001:db8::1')).to.equal(addressKey('2001:db8:0:0:ffff::2'));
  });
});
