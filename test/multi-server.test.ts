import { expect } from 'chai';
import { seqOf } from './support/cursors.js';
import { Auth } from '../lib/trust/auth.js';
import type { PollAnswer } from '../lib/protocol.js';
import { RedisStore } from '../lib/store/redis/store.js';
import { startChildServer, type ChildServer } from './support/child.js';
import { REDIS_URL, TEST_OPTIONS, testPrefix, waitFor } from './support/stores.js';

// Three real servers on one Redis, no stickiness: every poll goes to another server than the
// last, and one server dies mid-stream. Nothing may be missed, repeated or reordered.

const SECRET = 'multi-server-test-secret-0123456789abcdef';
const EVENT = 'ms1';
const VIEWERS = 300;
const PHASE1 = 1000;
const PHASE2 = 300;
const PRESENCE_TTL_MS = 4000;

interface Viewer {
  id: string;
  server: number;
  cursor: string;
  last: number;
  problems: string[];
}

describe('three servers on one Redis', function () {
  this.timeout(240_000);
  const prefix = testPrefix();
  const servers: ChildServer[] = [];
  const alive = [true, true, true];
  let token = '';

  before(async function () {
    token = await new Auth({ secret: SECRET, issuer: null, audience: null }).mint({ sub: 'pub', scope: 'publish admin' });
    const env = {
      JWT_SECRET: SECRET,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      HOLD_TIMEOUT_MS: '3000',
      PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
      RING_SIZE: '4096',
    };
    const started = await Promise.allSettled([0, 1, 2].map(() => startChildServer(env)));
    for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  });

  after(async function () {
    for (const s of servers) s.kill();
    await Promise.all(servers.map((s) => s.exited));
    const cleaner = new RedisStore({ ...TEST_OPTIONS, url: REDIS_URL, keyPrefix: prefix });
    await cleaner.purge().catch(() => 0);
    await cleaner.close();
  });

  const call = async (server: number, method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${servers[server]!.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });

  /** Publishes score patches k<from>..k<to-1> with `parallel` in flight, spread over `via`. */
  async function publish(from: number, to: number, via: () => number[], parallel = 24): Promise<number> {
    let next = from;
    let head = 0;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        for (let attempt = 0; ; attempt++) {
          const choices = via();
          const server = choices[(i + attempt) % choices.length]!;
          try {
            const res = await call(server, 'POST', `/events/${EVENT}/scores`, { op: 'patch', data: { [`k${i}`]: i } });
            if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
            head = Math.max(head, ((await res.json()) as { seq: number }).seq);
            break;
          } catch (err) {
            // Only a killed server may refuse; anything else fails the test.
            if (alive[server] || attempt > 5) throw err;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return head;
  }

  /** One viewer's loop: polls round-robin over the live servers until it has seen `target()`. */
  async function watch(v: Viewer, target: () => number, deadline: number): Promise<void> {
    while (v.last < target() && Date.now() < deadline) {
      do v.server = (v.server + 1) % 3;
      while (!alive[v.server]);
      let answer: PollAnswer;
      try {
        const res = await fetch(
          `${servers[v.server]!.url}/events/${EVENT}/poll?cursor=${v.cursor}&viewer=${v.id}&timeout=2`,
          { signal: AbortSignal.timeout(15_000) },
        );
        if (res.status !== 200) throw new Error(`poll answered ${res.status}`);
        answer = (await res.json()) as PollAnswer;
      } catch (err) {
        if (!alive[v.server]) continue; // its server was killed: carry on with the same cursor
        v.problems.push(`poll on server ${v.server} failed: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (answer.reset) v.problems.push(`reset at ${v.cursor}`);
      for (const d of answer.deltas) {
        if (d.seq !== v.last + 1) v.problems.push(`got seq ${d.seq} after ${v.last}`);
        v.last = d.seq;
      }
      v.cursor = answer.cursor;
    }
  }

  /** The event's head as a live server reports it (tests may read the seq off a cursor). */
  async function head(server: number): Promise<number> {
    const detail = (await (await call(server, 'GET', `/events/${EVENT}`)).json()) as { cursor: string };
    return seqOf(detail.cursor);
  }

  it('delivers every delta exactly once, in order, across servers and a kill -9', async function () {
    const created = await call(0, 'PUT', `/events/${EVENT}`, { title: 'Scale-out', sport: 'test', visibility: 'public', state: 'live' });
    expect(created.status, await created.text()).to.be.oneOf([200, 201]);

    const viewers: Viewer[] = await Promise.all(
      Array.from({ length: VIEWERS }, async (_, i): Promise<Viewer> => {
        const res = await fetch(`${servers[i % 3]!.url}/events/${EVENT}/poll?viewer=v${i}`);
        const join = (await res.json()) as PollAnswer;
        return { id: `v${i}`, server: i % 3, cursor: join.cursor, last: join.snapshot!.seq, problems: [] };
      }),
    );
    const start = viewers[0]!.last;

    // Phase 1: a thousand deltas published concurrently through all three servers.
    let target = Number.POSITIVE_INFINITY;
    const deadline1 = Date.now() + 150_000;
    const watching1 = Promise.all(viewers.map((v) => watch(v, () => target, deadline1)));
    target = await publish(0, PHASE1, () => [0, 1, 2]);
    expect(target).to.equal(start + PHASE1);

    // Presence: every server counts all the viewers (touches are flushed every 250 ms).
    await waitFor(
      async () => {
        const counts = await Promise.all(
          [0, 1, 2].map(async (s) => ((await (await call(s, 'GET', `/events/${EVENT}/presence`)).json()) as { viewers: number }).viewers),
        );
        return counts.every((c) => c === VIEWERS);
      },
      PRESENCE_TTL_MS,
      'all three servers to count every viewer',
    );
    await watching1;
    for (const v of viewers) expect(v.problems, v.id).to.deep.equal([]);
    for (const v of viewers) expect(v.last, v.id).to.equal(target);

    // Phase 2: server 2 is killed with -9 while deltas flow; its viewers move on with their cursors.
    target = Number.POSITIVE_INFINITY;
    const deadline2 = Date.now() + 60_000;
    const watching2 = Promise.all(viewers.map((v) => watch(v, () => target, deadline2)));
    const published = publish(PHASE1, PHASE1 + PHASE2, () => (alive[2] ? [0, 1, 2] : [0, 1]), 8);
    await new Promise((r) => setTimeout(r, 300));
    alive[2] = false;
    servers[2]!.kill();
    await servers[2]!.exited;
    expect(await published).to.be.at.least(start + PHASE1 + PHASE2);
    // A publish cut off by the kill may have landed unacknowledged and been retried: the head,
    // not the count of publishes, is what every viewer must reach.
    target = await head(0);
    await watching2;
    for (const v of viewers) expect(v.problems, v.id).to.deep.equal([]);
    for (const v of viewers) expect(v.last, v.id).to.equal(target);

    // The snapshot folded on either survivor holds every concurrent patch.
    for (const s of [0, 1]) {
      const detail = (await (await call(s, 'GET', `/events/${EVENT}`)).json()) as { snapshot: { score: object } };
      expect(Object.keys(detail.snapshot.score)).to.have.length(PHASE1 + PHASE2);
    }
  });
});
