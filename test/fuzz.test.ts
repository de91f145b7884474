import { expect } from 'chai';
import fc from 'fast-check';
import { createEvent, postScore, startHarness, type Harness } from './support/harness.js';
import { call, stateOf } from './support/hostile.js';

/**
 * Property: whatever body and query string a client sends to whichever route, the server answers
 * (within a bound, never hanging), never with a 5xx, always with the protocol's error shape when
 * it refuses, and a refusal changes nothing. Holds are off (MAX_HOLD_MS=0) so every poll answers
 * at once; DELETE and /end are left out so the events under test stay writable.
 */

const EVENTS = ['f-pub', 'f-priv'] as const;
const PARAMS = ['cursor', 'viewer', 'timeout', 'kinds', 'types', 'subs', 'callback', 'access_token', 'members', 'page', 'x'];
const ROUTES: Array<[string, string]> = [
  ['GET', '/events'],
  ['GET', '/events/f-pub'],
  ['GET', '/events/f-priv'],
  ['GET', '/events/f-pub/poll'],
  ['GET', '/events/f-priv/poll'],
  ['GET', '/events/f-pub/presence'],
  ['GET', '/poll'],
  ['POST', '/poll'],
  ['PUT', '/events/f-pub'],
  ['POST', '/events/f-pub/scores'],
  ['POST', '/events/f-pub/notices'],
  ['POST', '/events/f-priv/notices'],
  ['POST', '/events/f-pub/join'],
  ['POST', '/events/f-pub/leave'],
  ['POST', '/events/f-pub/chat'],
  ['POST', '/events/f-pub/reactions'],
  ['POST', '/events/f-priv/reactions'],
];
const TYPES = ['application/json', 'text/plain', 'application/json; charset=utf-8', 'application/xml', 'application/x-www-form-urlencoded', ''];

/** Characters node:http sends unescaped in a path: what a hand-written URL may hold, % and & included. */
const rawChar = fc.integer({ min: 0x21, max: 0xff }).map((c) => String.fromCharCode(c));
const rawText = fc.string({ unit: rawChar, maxLength: 40 });
const value = fc.oneof(
  rawText,
  fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('', '0', '-1', '1e400', 'k3f9x2-45', 'score,chat', 'f-pub@a-1,f-priv', '__proto__', 'a'.repeat(5000), '%', '%zz', '%00', 'x.y(1)'),
);
const queryString = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), rawText), value), { maxLength: 5 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.dictionary(fc.constantFrom('data', 'title', 'subs', 'id', 'version', 'op', 'type', 'visibility', 'state', 'meta', 'level', 'text', 'emoji', 'comment', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 3 })).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.integer({ min: 30, max: 40 }).map(deep),
  fc.constantFrom('{"__proto__":{"x":1},"data":{}}', '{"data":{},"version":1e400}', '{"title":"\\ud800"}', '"\\u0000"', 'x'.repeat(20_000)),
);

describe('fuzzing the routes with random bodies and query strings', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ HOLD_TIMEOUT_MS: '0', MAX_HOLD_MS: '0' });
    await createEvent(h, 'f-pub', { title: 'Fuzz' });
    await postScore(h, 'f-pub', { data: { a: 1 }, version: 1 });
    await createEvent(h, 'f-priv', { title: 'Fuzz private', visibility: 'private' });
  });
  after(() => h.close());

  it('never answers 5xx, never hangs, and changes nothing when it refuses (300 runs)', async () => {
    let baseline = await stateOf(h, EVENTS);
    const tokens = ['', h.adminToken, h.publisherToken, 'garbage.token.here'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), queryString, fc.option(body, { nil: undefined }), fc.constantFrom(...TYPES), fc.nat(tokens.length - 1), async ([method, path], query, text, type, t) => {
        const headers: Record<string, string> = {};
        if (tokens[t]) headers['Authorization'] = `Bearer ${tokens[t]}`;
        const withBody = method !== 'GET' && text !== undefined;
        if (withBody) {
          headers['Content-Length'] = String(Buffer.byteLength(text, 'latin1'));
          if (type) headers['Content-Type'] = type;
        }
        const res = await call(h.service.port, { method, path: query ? `${path}?${query}` : path, headers, ...(withBody ? { body: Buffer.from(text, 'latin1') } : {}) }, 5000);
        expect(res.status, res.text.slice(0, 300)).to.be.below(500);
        if (res.status >= 400) {
          const error = (JSON.parse(res.text) as { error?: { code?: unknown } }).error;
          expect(error?.code, res.text.slice(0, 300)).to.be.a('string');
          expect(await stateOf(h, EVENTS), `state after ${res.status} ${res.text.slice(0, 200)}`).to.deep.equal(baseline);
        } else {
          baseline = await stateOf(h, EVENTS);
        }
      }),
      { numRuns: 300 },
    );
  });
});
