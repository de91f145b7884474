/**
 * The bench's yardstick: the smallest honest long-poll server on raw node:http, speaking the
 * subset of holdline's protocol the bench uses (PUT event, POST scores, poll with cursor,
 * ring buffer, reset with `missed`) with the same JSON answer shape. No framework, no auth,
 * no presence beyond a count of held polls: whatever holdline costs beyond this is the price
 * of its features. Each delta is serialised once when published; a wake serialises one
 * answer and hands the same bytes to every held poll.
 *
 * Environment: PORT, HOST, HOLD_TIMEOUT_MS, MAX_HOLD_MS, RING_SIZE, MAX_BATCH (holdline's names).
 */
import http from 'node:http';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
};
const HOLD_TIMEOUT_MS = env('HOLD_TIMEOUT_MS', 25_000);
const MAX_HOLD_MS = env('MAX_HOLD_MS', 60_000);
const RING_SIZE = Math.max(1, env('RING_SIZE', 1024));
const MAX_BATCH = Math.max(1, Math.min(env('MAX_BATCH', 256), RING_SIZE));

interface Waiter {
  res: http.ServerResponse;
  timer: NodeJS.Timeout;
}

interface Event {
  id: string;
  epoch: string;
  head: number;
  /** Serialised deltas; seq s lives at s % RING_SIZE while s > head - RING_SIZE. */
  ring: string[];
  meta: Record<string, unknown>;
  state: string;
  score: Record<string, unknown>;
  waiters: Set<Waiter>;
}

const events = new Map<string, Event>();
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

const fail = (res: http.ServerResponse, status: number, code: string): void =>
  send(res, status, JSON.stringify({ error: { code, message: code.replace(/_/g, ' ') } }));

/** RFC 7396 merge patch, enough for score objects. */
function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete target[key];
    else if (typeof value === 'object' && !Array.isArray(value)) {
      const base = target[key];
      target[key] = merge(typeof base === 'object' && base !== null && !Array.isArray(base) ? (base as Record<string, unknown>) : {}, value as Record<string, unknown>);
    } else target[key] = value;
  }
  return target;
}

function answer(ev: Event, cursorSeq: number, parts: string[], extra: string): string {
  return (
    `{"event":${JSON.stringify(ev.id)},"cursor":"${ev.epoch}-${cursorSeq}","deltas":[${parts.join(',')}],` +
    `"more":${cursorSeq < ev.head},"viewers":${ev.waiters.size},"reset":false,"ended":false${extra}}`
  );
}

function snapshot(ev: Event): string {
  return JSON.stringify({ seq: ev.head, meta: ev.meta, state: ev.state, score: ev.score, chat: [], reactions: { totals: {} } });
}

function poll(ev: Event, url: URL, req: http.IncomingMessage, res: http.ServerResponse): void {
  const cursor = url.searchParams.get('cursor') ?? '';
  const timeoutParam = url.searchParams.get('timeout');
  const timeoutSec = timeoutParam === null ? HOLD_TIMEOUT_MS / 1000 : Number(timeoutParam);
  if (!Number.isFinite(timeoutSec) || timeoutSec < 0) return fail(res, 400, 'invalid_request');
  if (cursor === '') return send(res, 200, answer(ev, ev.head, [], `,"snapshot":${snapshot(ev)}`));
  const m = /^([a-z0-9]{1,16})-([0-9]{1,15})$/.exec(cursor);
  if (!m) return fail(res, 400, 'invalid_cursor');
  const seq = Number(m[2]);
  const oldest = ev.head - RING_SIZE; // the newest seq no longer in the ring
  if (m[1] !== ev.epoch || seq < oldest) {
    // The client jumps to the snapshot, so every delta after its cursor is one it never sees.
    const missed = m[1] === ev.epoch ? ev.head - seq : null;
    const body = answer(ev, ev.head, [], `,"snapshot":${snapshot(ev)},"missed":${missed}`).replace('"reset":false', '"reset":true');
    return send(res, 200, body);
  }
  if (seq > ev.head) return fail(res, 400, 'invalid_cursor');
  if (seq < ev.head) {
    const to = Math.min(ev.head, seq + MAX_BATCH);
    const parts: string[] = [];
    for (let s = seq + 1; s <= to; s++) parts.push(ev.ring[s % RING_SIZE]!);
    return send(res, 200, answer(ev, to, parts, ''));
  }
  const holdMs = Math.min(timeoutSec * 1000, MAX_HOLD_MS);
  if (holdMs === 0) return send(res, 200, answer(ev, seq, [], ''));
  const waiter: Waiter = {
    res,
    timer: setTimeout(() => {
      ev.waiters.delete(waiter);
      send(res, 200, answer(ev, seq, [], ''));
    }, holdMs),
  };
  ev.waiters.add(waiter);
  req.once('close', () => {
    if (ev.waiters.delete(waiter)) clearTimeout(waiter.timer);
  });
}

function publish(ev: Event, body: Record<string, unknown>, res: http.ServerResponse): void {
  const op = body['op'] === 'patch' ? 'patch' : 'set';
  const data = body['data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail(res, 400, 'invalid_request');
  ev.score = op === 'set' ? structuredClone(data as Record<string, unknown>) : merge(ev.score, structuredClone(data as Record<string, unknown>));
  ev.head += 1;
  const delta: Record<string, unknown> = { seq: ev.head, kind: 'score', ts: Date.now(), op };
  if (typeof body['type'] === 'string') delta['type'] = body['type'];
  delta['data'] = data;
  ev.ring[ev.head % RING_SIZE] = JSON.stringify(delta);
  send(res, 201, `{"seq":${ev.head},"cursor":"${ev.epoch}-${ev.head}"}`);
  if (ev.waiters.size === 0) return;
  // Every held poll sits at the previous head: one answer, the same bytes for all.
  const waiters = [...ev.waiters];
  ev.waiters.clear();
  const wake = answer(ev, ev.head, [ev.ring[ev.head % RING_SIZE]!], '');
  for (const w of waiters) {
    clearTimeout(w.timer);
    send(w.res, 200, wake);
  }
}

function upsert(id: string, body: Record<string, unknown>, res: http.ServerResponse): void {
  let ev = events.get(id);
  const created = ev === undefined;
  if (ev === undefined) {
    ev = { id, epoch: Math.random().toString(36).slice(2, 10), head: 0, ring: new Array<string>(RING_SIZE), meta: {}, state: 'scheduled', score: {}, waiters: new Set() };
    events.set(id, ev);
  }
  ev.meta = { title: body['title'] ?? ev.meta['title'] ?? id, sport: body['sport'] ?? ev.meta['sport'] ?? 'other', visibility: 'public' };
  if (typeof body['state'] === 'string') ev.state = body['state'];
  send(res, created ? 201 : 200, JSON.stringify({ id, meta: ev.meta, state: ev.state }));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const parts = url.pathname.split('/');
  if (url.pathname === '/healthz') return send(res, 200, '{"ok":true}');
  if (parts[1] !== 'events' || parts[2] === undefined || parts.length > 4) return fail(res, 404, 'not_found');
  const id = decodeURIComponent(parts[2]);
  if (!EVENT_ID.test(id)) return fail(res, 400, 'invalid_request');
  const action = parts[3] ?? '';
  const ev = events.get(id);
  if (req.method === 'GET' && action === 'poll') return ev ? poll(ev, url, req, res) : fail(res, 404, 'not_found');
  const writes = (req.method === 'PUT' && action === '') || (req.method === 'POST' && action === 'scores');
  if (!writes) return fail(res, 404, 'not_found');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
    } catch {
      return fail(res, 400, 'invalid_json');
    }
    if (req.method === 'PUT') return upsert(id, body, res);
    if (!ev) return fail(res, 404, 'not_found');
    publish(ev, body, res);
  });
});

server.listen(env('PORT', 8080), process.env['HOST'] ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`baseline long-poll server listening on http://${process.env['HOST'] ?? '127.0.0.1'}:${port}\n`);
});

const stop = (): void => {
  for (const ev of events.values()) for (const w of ev.waiters) clearTimeout(w.timer);
  server.close();
  server.closeAllConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
