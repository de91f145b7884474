import { schemas } from './schemas.js';

/**
 * The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json. A static object
 * kept honest by test/ops.openapi.test.ts, which compares its paths with the router's.
 */

type Json = Record<string, unknown>;

const schema = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const param = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });
const json = (s: Json): Json => ({ content: { 'application/json': { schema: s } } });
const ERROR_STATUSES = { 400: 'Invalid request', 401: 'No token, or a refused one', 403: 'Not allowed', 404: 'No such event', 409: 'Conflict (ended, stale version, idempotency)', 413: 'Body too large', 415: 'Unsupported media type', 429: 'Rate limited (see Retry-After)', 503: 'Draining or unavailable (see Retry-After)' } as const;
type ErrorStatus = keyof typeof ERROR_STATUSES;
/** On every answer (docs/PROTOCOL.md, "Holds that fit the path"). */
const HOLD_HEADERS = { 'Holdline-Hold': { $ref: '#/components/headers/HoldlineHold' } } as const;

interface Op {
  id: string;
  summary: string;
  tag: string;
  params?: string[];
  body?: string;
  ok: [status: number, description: string, schemaName?: string];
  errors?: ErrorStatus[];
  /** Honours Idempotency-Key (appending POSTs). */
  idempotent?: boolean;
}

/** One operation object from a compact description. */
function op(o: Op): Json {
  const [status, description, okSchema] = o.ok;
  const responses: Json = { [status]: { description, headers: HOLD_HEADERS, ...(okSchema ? json(schema(okSchema)) : {}) } };
  for (const e of o.errors ?? []) responses[e] = { $ref: `#/components/responses/E${e}` };
  const params = [...(o.params ?? []), ...(o.idempotent ? ['idempotencyKey'] : [])];
  return {
    operationId: o.id,
    summary: o.summary,
    tags: [o.tag],
    ...(params.length > 0 ? { parameters: params.map(param) } : {}),
    ...(o.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(o.body) }, 'text/plain': { schema: { type: 'string', description: 'JSON text (no CORS preflight; sendBeacon).' } } } } } : {}),
    responses,
  };
}

const pollParams = ['viewer', 'timeout', 'kinds', 'types', 'callback'];

/** An SSE route: 200 text/event-stream whose events' data are poll answers; refusals are JSON, as a poll's. */
function streamOp(id: string, summary: string, params: string[]): Json {
  const responses: Json = {
    200: { description: 'text/event-stream: `id:` the stream position, `data:` one poll answer; a final `end` event (reason, resume, advice)', headers: HOLD_HEADERS, content: { 'text/event-stream': { schema: { type: 'string' } } } },
    204: { description: 'The event has ended and everything was delivered (EventSource stops reconnecting)', headers: HOLD_HEADERS },
  };
  for (const e of [400, 401, 403, 404, 429, 503] as const) responses[e] = { $ref: `#/components/responses/E${e}` };
  return { operationId: id, summary, tags: ['reading'], parameters: params.map(param), responses };
}

/** A file served as it is (lib/http/handlers/static.ts), with ETag and Cache-Control. */
function staticOp(id: string, summary: string, status: number, type?: string): Json {
  const ok = type ? { description: summary, headers: HOLD_HEADERS, content: { [type]: { schema: { type: 'string' } } } } : { description: summary, headers: HOLD_HEADERS };
  return { operationId: id, summary, tags: ['static'], security: [], responses: { [status]: ok, 304: { description: 'Not modified (If-None-Match)', headers: HOLD_HEADERS }, 404: { description: 'No such file', headers: HOLD_HEADERS } } };
}

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'holdline',
    version: '1',
    summary: 'A long-polling-first live-event hub: scores, notices, chat and reactions over plain HTTP.',
    description: 'Protocol version 1; docs/PROTOCOL.md is the prose. Every GET takes callback= (JSONP) but the streams. Errors are {error:{code,message,field?}}. WebSocket: GET /realtime upgrades (see docs/PROTOCOL.md, Streams).',
  },
  security: [{}, { bearer: [] }, { accessToken: [] }],
  tags: [{ name: 'events' }, { name: 'reading' }, { name: 'writing' }, { name: 'engagement' }, { name: 'operations' }, { name: 'static' }],
  paths: {
    '/healthz': { get: op({ id: 'healthz', summary: 'Liveness: 200 while the process runs', tag: 'operations', ok: [200, 'Alive'] }) },
    '/readyz': { get: op({ id: 'readyz', summary: 'Readiness: 200 once the store answers, 503 while draining', tag: 'operations', ok: [200, 'Ready'], errors: [503] }) },
    '/metrics': { get: { ...op({ id: 'metrics', summary: 'Prometheus metrics', tag: 'operations', ok: [200, 'Prometheus text'] }), responses: { 200: { description: 'Prometheus text exposition', headers: HOLD_HEADERS, content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    '/': { get: staticOp('root', 'Redirects to /demo/', 302) },
    '/holdline.js': { get: staticOp('holdlineJs', 'The ES5 browser client', 200, 'application/javascript') },
    '/holdline.d.ts': { get: staticOp('holdlineDts', 'The browser client\'s TypeScript declarations', 200, 'text/plain') },
    '/widget.js': { get: staticOp('widgetJs', 'The one-tag embeddable scoreboard widget', 200, 'application/javascript') },
    '/demo': { get: staticOp('demoIndex', 'The demo index (/demo redirects to /demo/)', 200, 'text/html') },
    '/favicon.ico': { get: staticOp('faviconIco', 'The site icon (ICO)', 200, 'image/x-icon') },
    '/favicon.svg': { get: staticOp('faviconSvg', 'The site icon (SVG)', 200, 'image/svg+xml') },
    '/admin': { get: staticOp('adminPage', 'The live dashboard page (/admin redirects to /admin/); its data needs an admin token', 200, 'text/html') },
    '/admin/uplot.js': { get: staticOp('adminUplotJs', 'uPlot, the charting library the dashboard draws with, served locally', 200, 'application/javascript') },
    '/admin/uplot.css': { get: staticOp('adminUplotCss', "uPlot's stylesheet", 200, 'text/css') },
    '/admin/{name}': {
      parameters: [param('demoName')],
      get: staticOp('adminFile', "A dashboard page's asset", 200, 'application/javascript'),
    },
    '/demo/token': {
      post: {
        operationId: 'demoToken', summary: 'A guest viewer token for the demo pages (serve --demo only; 404 otherwise)', tags: ['static'], security: [],
        responses: {
          201: { description: 'The token: {token, sub, name, expiresInS}; no scope, the demo events only', headers: HOLD_HEADERS, content: { 'application/json': { schema: { type: 'object', required: ['token', 'sub', 'name', 'expiresInS'], properties: { token: { type: 'string' }, sub: { type: 'string' }, name: { type: 'string' }, expiresInS: { type: 'integer' } } } } } },
          404: { description: 'Not in demo mode', headers: HOLD_HEADERS },
        },
      },
    },
    '/demo/{name}': {
      parameters: [param('demoName')],
      get: staticOp('demoFile', 'A demo page or its asset', 200, 'text/html'),
    },
    '/openapi.json': { get: op({ id: 'openapi', summary: 'This document', tag: 'operations', ok: [200, 'OpenAPI 3.1'] }) },
    '/events': {
      get: {
        ...op({ id: 'listEvents', summary: 'Public events, plus private ones the token may read', tag: 'events', params: ['callback'], ok: [200, 'Events'] }),
        responses: { 200: { description: 'Events', headers: HOLD_HEADERS, ...json({ type: 'object', required: ['events'], properties: { events: { type: 'array', items: schema('EventSummary') } } }) } },
      },
    },
    '/events/{eventId}': {
      parameters: [param('eventId')],
      get: op({ id: 'getEvent', summary: 'The event, its cursor and snapshot (no hold)', tag: 'events', params: ['callback'], ok: [200, 'The event', 'EventDetail'], errors: [400, 401, 403, 404] }),
      put: op({ id: 'putEvent', summary: 'Create (201) or update (200) the event', tag: 'events', body: 'EventInput', ok: [200, 'Updated (201 when created)', 'EventDetail'], errors: [400, 401, 403, 409, 413, 415, 503] }),
      delete: op({ id: 'deleteEvent', summary: 'Delete the event (admin)', tag: 'events', ok: [204, 'Deleted'], errors: [401, 403, 404] }),
    },
    '/events/{eventId}/scores': {
      parameters: [param('eventId')],
      post: op({ id: 'publishScore', summary: 'Append a score delta', tag: 'writing', body: 'ScoreInput', idempotent: true, ok: [201, 'Appended', 'AppendAnswer'], errors: [400, 401, 403, 404, 409, 413, 415, 503] }),
    },
    '/events/{eventId}/notices': {
      parameters: [param('eventId')],
      post: op({ id: 'publishNotice', summary: 'Append a notice delta', tag: 'writing', body: 'NoticeInput', idempotent: true, ok: [201, 'Appended', 'AppendAnswer'], errors: [400, 401, 403, 404, 409, 413, 415, 503] }),
    },
    '/events/{eventId}/end': {
      parameters: [param('eventId')],
      post: op({ id: 'endEvent', summary: 'End the event (409 event_ended the second time)', tag: 'writing', idempotent: true, ok: [200, 'Ended', 'AppendAnswer'], errors: [400, 401, 403, 404, 409, 503] }),
    },
    '/events/{eventId}/chat': {
      parameters: [param('eventId')],
      post: op({ id: 'postChat', summary: 'Post a chat message (token with sub)', tag: 'writing', body: 'ChatInput', idempotent: true, ok: [201, 'Posted', 'ChatAnswer'], errors: [400, 401, 403, 404, 409, 413, 415, 429, 503] }),
    },
    '/events/{eventId}/chat/{msgId}': {
      parameters: [param('eventId'), param('msgId')],
      delete: op({ id: 'deleteChat', summary: 'Remove a chat message (admin): appends a chat delete', tag: 'writing', ok: [204, 'Removed'], errors: [400, 401, 403, 404, 409] }),
    },
    '/events/{eventId}/reactions': {
      parameters: [param('eventId')],
      post: op({ id: 'postReaction', summary: 'React (aggregated per REACTION_WINDOW_MS window)', tag: 'writing', body: 'ReactionInput', idempotent: true, ok: [202, 'Counted'], errors: [400, 401, 403, 404, 409, 413, 415, 429, 503] }),
    },
    '/events/{eventId}/poll': {
      parameters: [param('eventId')],
      get: op({ id: 'poll', summary: 'Long poll: no cursor joins; at the head the request is held', tag: 'reading', params: ['cursor', ...pollParams], ok: [200, 'Deltas, a snapshot, or the same cursor', 'PollAnswer'], errors: [400, 401, 403, 404, 503] }),
    },
    '/events/{eventId}/stream': {
      parameters: [param('eventId')],
      get: streamOp('stream', 'Server-Sent Events: each answer a poll would get is one event, id: its cursor; Last-Event-ID resumes', ['cursor', 'viewer', 'kinds', 'types', 'lastEventId']),
    },
    '/events/{eventId}/join': {
      parameters: [param('eventId')],
      post: op({ id: 'join', summary: 'Connection initiation: the join answer plus viewerId and advice', tag: 'reading', params: ['viewer'], ok: [200, 'Joined', 'PollAnswer'], errors: [400, 401, 403, 404, 503] }),
    },
    '/events/{eventId}/leave': {
      parameters: [param('eventId')],
      post: op({ id: 'leave', summary: 'Leave presence at once (sendBeacon-friendly)', tag: 'reading', params: ['viewer'], ok: [204, 'Left'], errors: [400, 401, 403, 404, 503] }),
    },
    '/poll': {
      get: op({ id: 'pollMany', summary: 'Several events in one held request: subs=m1@cursor,m2', tag: 'reading', params: ['subs', ...pollParams], ok: [200, 'One result per sub', 'MultiPollAnswer'], errors: [400, 401, 503] }),
      post: {
        ...op({ id: 'pollManyPost', summary: 'Several events in one held request: {"subs": {"m1": "<cursor>", "m2": null}}', tag: 'reading', params: ['viewer', 'timeout', 'kinds', 'types'], ok: [200, 'One result per sub', 'MultiPollAnswer'], errors: [400, 401, 413, 415, 503] }),
        requestBody: { required: true, ...json({ type: 'object', required: ['subs'], properties: { subs: { type: 'object', additionalProperties: { type: ['string', 'null'] } } } }) },
      },
    },
    '/stream': {
      get: streamOp('streamMany', 'Server-Sent Events for several events: subs=m1@cursor,m2; id: m1@c1,m2@c2', ['subs', 'viewer', 'kinds', 'types', 'lastEventId']),
    },
    '/events/{eventId}/presence': {
      parameters: [param('eventId')],
      get: op({ id: 'presence', summary: 'Viewer count; members a page at a time for admins', tag: 'engagement', params: ['members', 'page', 'callback'], ok: [200, 'Presence', 'Presence'], errors: [400, 401, 403, 404] }),
    },
    '/admin/summary': {
      get: op({ id: 'adminSummary', summary: "The live dashboard's picture: every live event's last hour (viewers, reactions, chat, top emoji) and this server's counters (deltas by kind, poll answers by outcome, HTTP answers, held polls); admin scope. Live updates: follow the private event holdline-ops", tag: 'operations', ok: [200, 'Summary'], errors: [401, 403] }),
    },
    '/events/{eventId}/stats': {
      parameters: [param('eventId')],
      get: op({ id: 'stats', summary: 'Engagement over the last hour: viewers, reactions and chat per minute, top emoji', tag: 'engagement', params: ['callback'], ok: [200, 'Stats', 'EventStats'], errors: [400, 401, 403, 404] }),
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      accessToken: { type: 'apiKey', in: 'query', name: 'access_token', description: 'For clients that cannot set headers; never both.' },
    },
    parameters: {
      eventId: { name: 'eventId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$' } },
      demoName: { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}\\.(html|js|css|png|svg|json)$' } },
      msgId: { name: 'msgId', in: 'path', required: true, description: 'The id POST /chat answered.', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
      cursor: { name: 'cursor', in: 'query', description: 'The last cursor received; absent or empty joins.', schema: { type: 'string' } },
      viewer: { name: 'viewer', in: 'query', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
      timeout: { name: 'timeout', in: 'query', description: 'Hold in seconds; 0 answers at once; clamped to MAX_HOLD_MS. The Holdline-Hold header says the default and the range.', schema: { type: 'number', minimum: 0 } },
      kinds: { name: 'kinds', in: 'query', description: 'Comma-separated delta kinds.', schema: { type: 'string' } },
      types: { name: 'types', in: 'query', description: 'Comma-separated score/notice types.', schema: { type: 'string' } },
      callback: { name: 'callback', in: 'query', description: 'JSONP function name.', schema: { type: 'string', pattern: '^[A-Za-z_$][A-Za-z0-9_$.]{0,63}$' } },
      subs: { name: 'subs', in: 'query', required: true, description: 'm1@cursor,m2 (at most MAX_SUBS).', schema: { type: 'string' } },
      members: { name: 'members', in: 'query', schema: { enum: ['0', '1'] } },
      page: { name: 'page', in: 'query', schema: { type: 'string' } },
      lastEventId: { name: 'Last-Event-ID', in: 'header', description: 'Sent by EventSource on reconnect: the id of the last event received (a cursor, or m1@c1,m2@c2); wins over cursor/subs.', schema: { type: 'string' } },
      idempotencyKey: { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' } },
    },
    responses: Object.fromEntries(
      Object.entries(ERROR_STATUSES).map(([status, description]) => [`E${status}`, { description, headers: HOLD_HEADERS, ...json(schema('Error')) }]),
    ),
    headers: {
      HoldlineHold: {
        description:
          'The server\'s holds in seconds: `timeout=` what a poll without timeout= is held, `min=` and `max=` the range timeout= is taken in (above max it is clamped). On every answer of the server, so an error page without it came from a proxy.',
        schema: { type: 'string', pattern: '^timeout=\\d+(\\.\\d+)?, min=\\d+(\\.\\d+)?, max=\\d+(\\.\\d+)?$' },
        example: 'timeout=25, min=0, max=60',
      },
    },
    schemas,
  },
} as const;
