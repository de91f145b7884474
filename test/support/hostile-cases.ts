/**
 * The hostile-input battery's table (test/hostile.test.ts runs it): each case is one request
 * a careless or malicious client sends, with the status and error code it must get.
 */

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'holdline-test';

export type TokenName =
  | 'admin' | 'publisher' | 'viewer' | 'otherPublisher' | 'expired' | 'notYet' | 'wrongIss' | 'wrongAud' | 'noIssAud'
  | 'hs512' | 'rs256' | 'none' | 'tampered' | 'wrongSecret' | 'unsigned' | 'noExp' | 'badSub';

export interface Case {
  name: string;
  method?: string;
  /** Path and query as sent; {C} is h-pub's head cursor, {E} its epoch. */
  path: string;
  token?: TokenName;
  headers?: Record<string, string | string[]>;
  /** A JSON value, or a string sent as is. */
  body?: unknown;
  type?: string;
  /** Bytes for a raw socket instead: what an HTTP client would refuse to send. */
  raw?: string;
  status: number;
  code: string;
  field?: string;
  /** The error is in the first entry of a multi-event poll answered 200. */
  entry?: { status: number };
  /** Text that must never come back (an echo of hostile input). */
  never?: string;
  /** Needs the JSONP feature: a failure here means bad callbacks are not refused. */
  jsonp?: true;
}

const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const get = (path: string, status: number, code: string, field?: string, extra: Partial<Case> = {}): Case => ({ name: `GET ${path}`, path, status, code, ...(field ? { field } : {}), ...extra });
const send = (method: string, path: string, body: unknown, status: number, code: string, field?: string, extra: Partial<Case> = {}): Case => ({
  name: `${method} ${path} ${typeof body === 'string' ? body : JSON.stringify(body)}`, method, path, body, token: 'admin', status, code, ...(field ? { field } : {}), ...extra,
});
const score = (body: unknown, status: number, code: string, field?: string, extra: Partial<Case> = {}) => send('POST', '/events/h-pub/scores', body, status, code, field, extra);
const notice = (body: unknown, status: number, code: string, field?: string) => send('POST', '/events/h-pub/notices', body, status, code, field);
const putEvent = (body: unknown, status: number, code: string, field?: string) => send('PUT', '/events/h-pub', body, status, code, field);
const asToken = (token: TokenName, status: number, code: string): Case => ({
  name: `PUT /events/h-pub with a ${token} token`, method: 'PUT', path: '/events/h-pub', token, body: { title: 'taken over' }, status, code,
});
const rawGet = (path: string, headers: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;

export const CASES: Case[] = [
  // Event ids in paths.
  get('/events/bad%20id', 400, 'invalid_request', 'eventId'),
  get('/events/-leading-dash', 400, 'invalid_request', 'eventId'),
  get(`/events/${'a'.repeat(129)}`, 400, 'invalid_request', 'eventId'),
  get('/events/a%00b/poll', 400, 'invalid_request', 'eventId'),
  get('/events/..%2F..%2Fetc%2Fpasswd/poll', 400, 'invalid_request', 'eventId'),
  get('/events/%zz/poll', 400, 'invalid_request', 'eventId'),
  get('/events/h-pub%0d%0aX-Injected:%201', 400, 'invalid_request', 'eventId'),
  get('/events/%E2%80%AEbup-h/presence', 400, 'invalid_request', 'eventId'),
  send('PUT', '/events/%F0%9F%92%A3', { title: 'x' }, 400, 'invalid_request', 'eventId'),
  send('DELETE', '/events/a%20b', undefined, 400, 'invalid_request', 'eventId'),
  send('POST', '/events/x%3Cscript%3E/scores', { data: {} }, 400, 'invalid_request', 'eventId', { never: '<script>' }),
  get(`/events/${'a/'.repeat(600)}poll`, 400, 'invalid_request', 'path'),
  // Cursors.
  get('/events/h-pub/poll?cursor=garbage', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={E}-1.ZZZZZZZZ', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={E}-1.0a0b', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor=ABC-1', 400, 'invalid_cursor', 'cursor'),
  get(`/events/h-pub/poll?cursor=${'a'.repeat(17)}-1`, 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={E}-1234567890123456', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={E}--1', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={E}-1e3', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={E}-1%00', 400, 'invalid_cursor', 'cursor'),
  get('/events/h-pub/poll?cursor={C}&cursor={C}', 400, 'invalid_request', 'cursor'),
  get('/poll?subs=h-pub@garbage', 200, 'invalid_cursor', 'subs.h-pub', { entry: { status: 400 } }),
  get('/poll?subs=h-pub@{E}-1.0a0b0c0d0e', 200, 'invalid_cursor', 'subs.h-pub', { entry: { status: 400 } }),
  // Viewer ids.
  get('/events/h-pub/poll?viewer=bad%20id', 400, 'invalid_request', 'viewer'),
  get(`/events/h-pub/poll?viewer=${'v'.repeat(65)}`, 400, 'invalid_request', 'viewer'),
  get('/events/h-pub/poll?viewer=v%00', 400, 'invalid_request', 'viewer'),
  get('/events/h-pub/poll?viewer=a&viewer=b', 400, 'invalid_request', 'viewer'),
  get('/events/h-pub/poll?viewer=%3Cimg%3E', 400, 'invalid_request', 'viewer', { never: '<img>' }),
  send('POST', '/events/h-pub/join', { id: 'bad id' }, 400, 'invalid_request', 'id'),
  send('POST', '/events/h-pub/join', { id: 5 }, 400, 'invalid_request', 'id'),
  send('POST', '/events/h-pub/join', { id: 'ok', extra: 1 }, 400, 'invalid_request', 'body'),
  send('POST', '/events/h-pub/leave', { id: 'x'.repeat(65) }, 400, 'invalid_request', 'id'),
  { ...send('POST', '/events/h-pub/leave', undefined, 400, 'invalid_request', 'id'), token: undefined, name: 'POST /events/h-pub/leave with no identity' },
  // Timeouts, kinds and types.
  get('/events/h-pub/poll?timeout=-1', 400, 'invalid_request', 'timeout'),
  get('/events/h-pub/poll?timeout=abc', 400, 'invalid_request', 'timeout'),
  get('/events/h-pub/poll?timeout=1e9', 400, 'invalid_request', 'timeout'),
  get('/events/h-pub/poll?timeout=9999999', 400, 'invalid_request', 'timeout'),
  get('/events/h-pub/poll?kinds=score,bogus', 400, 'invalid_request', 'kinds'),
  get('/events/h-pub/poll?types=goal,bad%20type', 400, 'invalid_request', 'types'),
  // Multi-event subs.
  get('/poll', 400, 'invalid_request', 'subs'),
  get('/poll?subs=', 400, 'invalid_request', 'subs'),
  get(`/poll?subs=${Array.from({ length: 17 }, (_, i) => `e${i}`).join(',')}`, 400, 'invalid_request', 'subs'),
  get('/poll?subs=h-pub,h-pub', 400, 'invalid_request', 'subs'),
  get('/poll?subs=bad%20id', 400, 'invalid_request', 'subs'),
  get('/poll?subs=nope-event', 200, 'not_found', undefined, { entry: { status: 404 } }),
  { ...send('POST', '/poll', { subs: [] }, 400, 'invalid_request', 'subs'), token: undefined },
  { ...send('POST', '/poll', { subs: { 'h-pub': 5 } }, 400, 'invalid_request', 'subs.h-pub'), token: undefined },
  { ...send('POST', '/poll', { subs: { 'h-pub': null }, x: 1 }, 400, 'invalid_request', 'body'), token: undefined },
  // JSONP callbacks: refused with a plain 400, never echoed.
  get('/events?callback=alert(1)', 400, 'invalid_callback', undefined, { jsonp: true, never: 'alert(1)' }),
  get('/events?callback=%3Cscript%3Ealert(1)%3C/script%3E', 400, 'invalid_callback', undefined, { jsonp: true, never: '<script>' }),
  get(`/events?callback=${'c'.repeat(65)}`, 400, 'invalid_callback', undefined, { jsonp: true, never: 'c'.repeat(65) }),
  get('/events?callback=1abc', 400, 'invalid_callback', undefined, { jsonp: true, never: '1abc' }),
  get('/events/h-pub/poll?callback=x.y(document.cookie)', 400, 'invalid_callback', undefined, { jsonp: true, never: 'document.cookie' }),
  get('/events/h-pub?callback=cb%0a%0dX:1', 400, 'invalid_callback', undefined, { jsonp: true }),
  get('/events?callback=a&callback=b', 400, 'invalid_request', 'callback', { jsonp: true }),
  // Bodies: not JSON, wrong media type, too large, too deep, prototype keys.
  score('not json', 400, 'invalid_json', 'body'),
  { ...score('{"data": {}', 400, 'invalid_json', 'body'), name: 'POST scores with truncated JSON' },
  { ...score('nope', 400, 'invalid_json', 'body'), type: 'text/plain' },
  { ...score('<data/>', 415, 'unsupported_media_type'), type: 'application/xml' },
  { ...score('data=1', 415, 'unsupported_media_type'), type: 'application/x-www-form-urlencoded' },
  { ...score(JSON.stringify({ data: { pad: 'x'.repeat(17_000) } }), 413, 'payload_too_large'), name: 'POST scores with a 17 KB body' },
  { ...score(`{"data":{"a":${deep(40)}}}`, 400, 'invalid_json'), name: 'POST scores 42 levels deep' },
  score('{"__proto__": {"admin": true}, "data": {}}', 400, 'invalid_request', '__proto__'),
  score({ data: { nested: { constructor: { prototype: 1 } } } }, 400, 'invalid_request'),
  score({ data: { prototype: 1 } }, 400, 'invalid_request'),
  score([], 400, 'invalid_request', 'body'),
  score('"a string"', 400, 'invalid_request', 'body'),
  score('5', 400, 'invalid_request', 'body'),
  score('null', 400, 'invalid_request', 'body'),
  // Scores: wrong types, huge and unsafe numbers.
  score({}, 400, 'invalid_request', 'data'),
  score({ data: [1] }, 400, 'invalid_request', 'data'),
  score({ data: 'x' }, 400, 'invalid_request', 'data'),
  score({ data: {}, version: -1 }, 400, 'invalid_request', 'version'),
  score({ data: {}, version: 1.5 }, 400, 'invalid_request', 'version'),
  score('{"data":{},"version":1e400}', 400, 'invalid_request', 'version'),
  score('{"data":{},"version":9007199254740993}', 400, 'invalid_request', 'version'),
  score({ data: {}, version: '7' }, 400, 'invalid_request', 'version'),
  score({ data: {}, version: 0 }, 409, 'stale_version', 'version'),
  score({ data: {}, op: 'delete' }, 400, 'invalid_request', 'op'),
  score({ data: {}, type: 'has space' }, 400, 'invalid_request', 'type'),
  score({ data: {}, extra: true }, 400, 'invalid_request', 'extra'),
  // Notices: lone surrogates, NUL, lengths.
  notice({ title: '\ud800' }, 400, 'invalid_request', 'title'),
  notice({ title: 'a\udc00b' }, 400, 'invalid_request', 'title'),
  notice({ title: 'nul\u0000byte' }, 400, 'invalid_request', 'title'),
  notice({ title: 'bell\u0007' }, 400, 'invalid_request', 'title'),
  notice({ title: 't'.repeat(201) }, 400, 'invalid_request', 'title'),
  notice({ title: '' }, 400, 'invalid_request', 'title'),
  notice({}, 400, 'invalid_request', 'title'),
  notice({ title: 'ok', body: 'b'.repeat(2001) }, 400, 'invalid_request', 'body'),
  notice({ title: 'ok', body: 'nul\u0000' }, 400, 'invalid_request', 'body'),
  notice({ title: 'ok', level: 'critical' }, 400, 'invalid_request', 'level'),
  notice({ title: 5 }, 400, 'invalid_request', 'title'),
  // PUT /events/:id.
  putEvent({ visibility: 'secret' }, 400, 'invalid_request', 'visibility'),
  putEvent({ state: 'paused' }, 400, 'invalid_request', 'state'),
  putEvent({ meta: { title: 'sneaky' } }, 400, 'invalid_request', 'meta.title'),
  putEvent({ meta: { blob: 'm'.repeat(5000) } }, 400, 'invalid_request', 'meta'),
  putEvent({ meta: [1] }, 400, 'invalid_request', 'meta'),
  putEvent({ sport: 'Football!' }, 400, 'invalid_request', 'sport'),
  putEvent({ title: 42 }, 400, 'invalid_request', 'title'),
  putEvent({ title: '\ud83d' }, 400, 'invalid_request', 'title'),
  putEvent({ owner: 'me' }, 400, 'invalid_request', 'owner'),
  // /end and ended events.
  send('POST', '/events/h-pub/end', { x: 1 }, 400, 'invalid_request', 'body'),
  send('POST', '/events/h-end/end', undefined, 409, 'event_ended'),
  send('POST', '/events/h-end/scores', { data: { a: 1 } }, 409, 'event_ended'),
  send('POST', '/events/h-end/notices', { title: 'late' }, 409, 'event_ended'),
  // Headers: missing, duplicated, oversized.
  { ...score('{"data":{}}', 415, 'unsupported_media_type'), type: '', name: 'POST scores with a body and no Content-Type' },
  { ...score({ data: {} }, 400, 'invalid_request', 'Idempotency-Key'), headers: { 'Idempotency-Key': 'k'.repeat(256) } },
  { ...score({ data: {} }, 400, 'invalid_request', 'Idempotency-Key'), headers: { 'Idempotency-Key': 'has space' } },
  { ...score({ data: {} }, 400, 'invalid_request', 'idempotency-key'), headers: { 'Idempotency-Key': ['a', 'b'] } },
  { ...score({ data: {} }, 400, 'invalid_request', 'authorization'), headers: { Authorization: ['Bearer {admin}', 'Bearer {admin}'] }, token: undefined },
  { name: 'raw: two Content-Type headers', path: '', raw: 'POST /events/h-pub/scores HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{"data":{}}', status: 400, code: 'invalid_request', field: 'content-type' },
  { name: 'raw: conflicting Content-Length', path: '', raw: 'POST /events/h-pub/scores HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nContent-Length: 12\r\n\r\n{"data":{}}', status: 400, code: 'invalid_request' },
  { name: 'raw: Content-Length with Transfer-Encoding', path: '', raw: 'POST /events/h-pub/scores HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400, code: 'invalid_request' },
  { name: 'raw: a 17 KiB header', path: '', raw: rawGet('/events', `X-Pad: ${'p'.repeat(17 * 1024)}\r\n`), status: 431, code: 'headers_too_large' },
  { name: 'raw: 400 headers of 50 bytes', path: '', raw: rawGet('/events', Array.from({ length: 400 }, (_, i) => `X-H${i}: ${'v'.repeat(44)}\r\n`).join('')), status: 431, code: 'headers_too_large' },
  { name: 'raw: not HTTP at all', path: '', raw: 'HELLO\r\n\r\n', status: 400, code: 'invalid_request' },
  get(`/events/h-pub/poll?pad=${'q'.repeat(4100)}`, 400, 'invalid_request', 'query'),
  // Tokens: every way a token can be wrong.
  { ...putEvent({ title: 'x' }, 401, 'unauthorized'), token: undefined, name: 'PUT without a token' },
  asToken('viewer', 403, 'forbidden'),
  asToken('otherPublisher', 403, 'forbidden'),
  asToken('expired', 401, 'invalid_token'),
  asToken('notYet', 401, 'invalid_token'),
  asToken('wrongIss', 401, 'invalid_token'),
  asToken('wrongAud', 401, 'invalid_token'),
  asToken('noIssAud', 401, 'invalid_token'),
  asToken('hs512', 401, 'invalid_token'),
  asToken('rs256', 401, 'invalid_token'),
  asToken('none', 401, 'invalid_token'),
  asToken('tampered', 401, 'invalid_token'),
  asToken('wrongSecret', 401, 'invalid_token'),
  asToken('unsigned', 401, 'invalid_token'),
  asToken('noExp', 401, 'invalid_token'),
  asToken('badSub', 401, 'invalid_token'),
  { ...putEvent({ title: 'x' }, 401, 'invalid_token'), token: undefined, headers: { Authorization: 'Bearer ' }, name: 'PUT with "Bearer " and nothing after' },
  { ...putEvent({ title: 'x' }, 401, 'invalid_token'), token: undefined, headers: { Authorization: 'Basic YWRtaW46YWRtaW4=' }, name: 'PUT with Basic credentials' },
  { ...putEvent({ title: 'x' }, 401, 'invalid_token'), token: undefined, headers: { Authorization: 'Bearer a b' }, name: 'PUT with a token holding a space' },
  { ...putEvent({ title: 'x' }, 400, 'invalid_request', 'access_token'), path: '/events/h-pub?access_token={admin}', name: 'PUT with the token in header and query' },
  { ...putEvent({ title: 'x' }, 400, 'invalid_request', 'access_token'), token: undefined, path: '/events/h-pub?access_token={admin}&access_token={admin}', name: 'PUT with access_token twice' },
  { ...putEvent({ title: 'x' }, 401, 'invalid_token'), token: undefined, path: '/events/h-pub?access_token=', name: 'PUT with an empty access_token' },
  { ...send('DELETE', '/events/h-pub', undefined, 403, 'forbidden'), token: 'publisher' },
  { ...send('POST', '/events/h-pub/end', undefined, 403, 'forbidden'), token: 'otherPublisher' },
  // Private events, read by those who may not.
  { ...get('/events/h-priv', 401, 'unauthorized'), name: 'GET /events/h-priv anonymously' },
  { ...get('/events/h-priv/poll', 403, 'forbidden'), token: 'viewer', name: 'GET /events/h-priv/poll without the event in the token' },
  { ...send('POST', '/events/h-priv/join', undefined, 401, 'unauthorized'), token: undefined },
  get('/poll?subs=h-priv', 200, 'unauthorized', undefined, { entry: { status: 401 } }),
  // Chat and reactions.
  { ...send('POST', '/events/h-pub/chat', { text: '' }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: '   ' }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: 'x'.repeat(501) }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: 'nul\u0000' }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: 'lone \ud800' }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: ['hi'] }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: 'hi', user: { id: 'admin' } }, 400, 'invalid_request', 'user'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/chat', { text: 'hi' }, 401, 'unauthorized'), token: undefined },
  { ...send('POST', '/events/h-priv/chat', { text: 'hi' }, 403, 'forbidden'), token: 'viewer' },
  { ...send('POST', '/events/h-end/chat', { text: 'hi' }, 409, 'event_ended'), token: 'viewer' },
  send('DELETE', '/events/h-pub/chat/bad%20id', undefined, 400, 'invalid_request', 'msgId'),
  send('DELETE', '/events/h-pub/chat/nosuchmessage', undefined, 404, 'not_found'),
  { ...send('DELETE', '/events/h-pub/chat/nosuchmessage', undefined, 403, 'forbidden'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/reactions', { emoji: 'two words' }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '' }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d' }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: ':)'.repeat(9) }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: 5 }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d\udc4d', comment: 'c'.repeat(141) }, 400, 'invalid_request', 'comment'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d\udc4d', comment: 'bell\u0007' }, 400, 'invalid_request', 'comment'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d\udc4d', count: 1000 }, 400, 'invalid_request', 'count'), token: undefined },
  { ...send('POST', '/events/h-priv/reactions', { emoji: '\ud83d\udc4d' }, 401, 'unauthorized'), token: undefined },
  { ...send('POST', '/events/h-end/reactions', { emoji: '\ud83d\udc4d' }, 409, 'event_ended'), token: undefined },
  // Issue 15: made-up emoticons, bidi overrides, keyed anonymous writes, the metrics and the demo.
  { ...send('POST', '/events/h-pub/reactions', { emoji: 'zz' }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: ':)' }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d\ude00\u200d\ud83d\ude00\u200d\ud83d\ude00' }, 400, 'invalid_request', 'emoji'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d\udc4d', comment: 'gg \u202egnp.exe' }, 400, 'invalid_request', 'comment'), token: undefined },
  { ...send('POST', '/events/h-pub/reactions', { emoji: '\ud83d\udc4d', comment: 'a\u2066b' }, 400, 'invalid_request', 'comment'), token: undefined },
  { ...send('POST', '/events/h-pub/chat', { text: 'hi \u202e' }, 400, 'invalid_request', 'text'), token: 'viewer' },
  { ...send('POST', '/events/h-pub/scores', { data: {} }, 401, 'unauthorized'), token: undefined, headers: { 'Idempotency-Key': 'anon-key-1' } },
  { ...send('POST', '/events/h-pub/chat', { text: 'hi' }, 401, 'unauthorized'), token: undefined, headers: { 'Idempotency-Key': 'anon-key-2' } },
  putEvent({ meta: { emoticons: ['ok', 'two words'] } }, 400, 'invalid_request', 'meta.emoticons'),
  putEvent({ meta: { emoticons: 'gg' } }, 400, 'invalid_request', 'meta.emoticons'),
  get('/metrics', 401, 'unauthorized'),
  get('/demo/chess.html', 404, 'not_found'),
  get('/', 404, 'not_found'),
  // Methods, routes and the rest.
  send('PATCH', '/events/h-pub', { title: 'x' }, 405, 'method_not_allowed'),
  get('/events/h-pub/scores', 405, 'method_not_allowed'),
  get('/nope', 404, 'not_found'),
  send('POST', '/events/no-such-event/scores', { data: {} }, 404, 'not_found'),
  get('/events/h-pub/presence?members=2', 400, 'invalid_request', 'members'),
  get('/events/h-pub/presence?page=bad!', 400, 'invalid_request', 'page'),
  get('/events/h-pub/presence?members=1', 401, 'unauthorized'),
];

