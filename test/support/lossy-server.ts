/**
 * A deliberately faulty long-poll server for the simulator's tests: it speaks the subset of
 * the protocol the simulator uses (PUT event, POST scores and reactions, single and
 * multi-event polls) and breaks delivery in scripted, per-seq ways that every viewer sees
 * the same, whatever its poll timing, so the simulator's counts can be asserted exactly.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Scripted faults, by seq; each applies to every viewer. */
export interface LossyFaults {
  /** Never delivered: each costs every viewer one gap. */
  drop?: number[];
  /** Delivered twice in the same answer: one duplicate per viewer. */
  duplicate?: number[];
  /** `[a, a + 1]`: `a` is held back until `a + 1` exists, then both go out as `a + 1, a`. */
  swap?: Array<[number, number]>;
  /** A poll that would deliver this seq first gets `reset: true, missed: 1` past it instead. */
  resetAt?: number[];
  /** Status answered to each viewer's first poll after its join (e.g. 503). */
  failFirstPoll?: number;
  /** Answer polls with chunked transfer encoding, split mid-body. */
  chunked?: boolean;
  /** Answer 404 to reactions and multi-event polls, like a server without them. */
  withoutExtras?: boolean;
}

/** A running lossy server. */
export interface LossyServer {
  url: string;
  /** Updates published so far, per event. */
  head(event: string): number;
  reactions(): number;
  close(): Promise<void>;
}

interface Held {
  subs: Array<[string, number | null]>;
  res: http.ServerResponse;
  multi: boolean;
  timer: NodeJS.Timeout;
}

const EPOCH = 'lossy';

/** Start a lossy server on 127.0.0.1, port 0. */
export async function startLossyServer(faults: LossyFaults = {}): Promise<LossyServer> {
  const logs = new Map<string, Array<Record<string, unknown>>>();
  const held = new Set<Held>();
  const failedOnce = new Set<string>();
  let reactionCount = 0;
  const drop = new Set(faults.drop);
  const duplicate = new Set(faults.duplicate);
  const resetAt = new Set(faults.resetAt);
  const swapFirst = new Map((faults.swap ?? []).map(([a, b]) => [a, b]));

  const write = (res: http.ServerResponse, status: number, value: unknown): void => {
    const body = Buffer.from(JSON.stringify(value));
    if (faults.chunked && status === 200) {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      const half = Math.floor(body.length / 2);
      res.write(body.subarray(0, half));
      res.end(body.subarray(half));
    } else {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    }
  };

  /** The answer to a poll of `event` at `after` (null: join), or null to keep holding. */
  const answerFor = (event: string, after: number | null): Record<string, unknown> | null => {
    const log = logs.get(event)!;
    const head = log.length;
    const base = { event, more: false, viewers: held.size, reset: false, ended: false };
    const snapshot = (seq: number) => ({ seq, meta: { title: event, sport: 'football', visibility: 'public' }, state: 'live', score: {}, chat: [], reactions: { totals: {} } });
    if (after === null) return { ...base, cursor: `${EPOCH}-${head}`, deltas: [], snapshot: snapshot(head) };
    if (after < head && resetAt.has(after + 1)) {
      return { ...base, reset: true, missed: 1, cursor: `${EPOCH}-${after + 1}`, deltas: [], snapshot: snapshot(after + 1) };
    }
    const out: Array<Record<string, unknown>> = [];
    let cursor = after;
    for (let s = after + 1; s <= head; s++) {
      if (resetAt.has(s)) break;
      const partner = swapFirst.get(s);
      if (partner !== undefined) {
        if (partner > head) break;
        out.push(log[partner - 1]!, log[s - 1]!);
        cursor = s = partner;
        continue;
      }
      cursor = s;
      if (drop.has(s)) continue;
      out.push(log[s - 1]!);
      if (duplicate.has(s)) out.push(log[s - 1]!);
    }
    if (cursor === after) return null;
    return { ...base, cursor: `${EPOCH}-${cursor}`, deltas: out };
  };

  /** Answer a (multi-)poll if any of its events has news; true when answered. */
  const tryAnswer = (subs: Array<[string, number | null]>, res: http.ServerResponse, multi: boolean, force = false): boolean => {
    const answers = subs.map(([event, after]) => answerFor(event, after));
    if (!force && answers.every((a) => a === null)) return false;
    const filled = answers.map(
      (a, i) => a ?? { event: subs[i]![0], cursor: `${EPOCH}-${subs[i]![1]}`, deltas: [], more: false, viewers: held.size, reset: false, ended: false },
    );
    write(res, 200, multi ? { results: filled } : filled[0]);
    return true;
  };

  const parseCursor = (text: string): number | null | 'bad' => {
    if (text === '') return null;
    const m = /^lossy-(\d+)$/.exec(text);
    return m ? Number(m[1]) : 'bad';
  };

  const poll = (url: URL, subs: Array<[string, string]>, res: http.ServerResponse, multi: boolean): void => {
    const viewer = url.searchParams.get('viewer') ?? '';
    const parsed: Array<[string, number | null]> = [];
    for (const [event, text] of subs) {
      const after = parseCursor(text);
      if (!logs.has(event)) return write(res, 404, { error: { code: 'not_found', message: 'no such event' } });
      if (after === 'bad') return write(res, 400, { error: { code: 'invalid_cursor', message: 'bad cursor' } });
      parsed.push([event, after]);
    }
    const joining = parsed.some(([, after]) => after === null);
    if (!joining && faults.failFirstPoll && !failedOnce.has(viewer)) {
      failedOnce.add(viewer);
      return write(res, faults.failFirstPoll, { error: { code: 'unavailable', message: 'scripted failure' } });
    }
    if (tryAnswer(parsed, res, multi, joining)) return;
    const timeoutSec = Number(url.searchParams.get('timeout') ?? '25');
    const h: Held = {
      subs: parsed,
      res,
      multi,
      timer: setTimeout(() => {
        held.delete(h);
        tryAnswer(parsed, res, multi, true);
      }, timeoutSec * 1000),
    };
    held.add(h);
    res.once('close', () => {
      held.delete(h);
      clearTimeout(h.timer);
    });
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, root, rawId, action] = url.pathname.split('/');
    const id = decodeURIComponent(rawId ?? '');
    if (req.method === 'GET' && root === 'poll') {
      if (faults.withoutExtras) return write(res, 404, { error: { code: 'not_found', message: 'no multi-event poll' } });
      const subs = (url.searchParams.get('subs') ?? '').split(',').map((s): [string, string] => {
        const at = s.indexOf('@');
        return at === -1 ? [decodeURIComponent(s), ''] : [decodeURIComponent(s.slice(0, at)), s.slice(at + 1)];
      });
      return poll(url, subs, res, true);
    }
    if (req.method === 'GET' && action === 'poll') return poll(url, [[id, url.searchParams.get('cursor') ?? '']], res, false);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      if (req.method === 'PUT' && action === undefined) {
        const created = !logs.has(id);
        if (created) logs.set(id, []);
        return write(res, created ? 201 : 200, { id });
      }
      const log = logs.get(id);
      if (log === undefined) return write(res, 404, { error: { code: 'not_found', message: 'no such event' } });
      if (req.method === 'POST' && action === 'reactions' && !faults.withoutExtras) {
        reactionCount += 1;
        return write(res, 202, {});
      }
      if (req.method !== 'POST' || action !== 'scores') return write(res, 404, { error: { code: 'not_found', message: 'no route' } });
      log.push({ seq: log.length + 1, kind: 'score', ts: Date.now(), op: body['op'] ?? 'set', type: body['type'], data: body['data'] });
      write(res, 201, { seq: log.length, cursor: `${EPOCH}-${log.length}` });
      for (const h of [...held]) {
        if (!h.subs.some(([event]) => event === id)) continue;
        if (tryAnswer(h.subs, h.res, h.multi)) {
          held.delete(h);
          clearTimeout(h.timer);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    head: (event) => logs.get(event)?.length ?? 0,
    reactions: () => reactionCount,
    close: async () => {
      for (const h of held) clearTimeout(h.timer);
      held.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
