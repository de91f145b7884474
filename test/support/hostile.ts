import http from 'node:http';
import { expect } from 'chai';
import type { Harness } from './harness.js';

/** An answer read over node:http, which sends paths and headers exactly as given. */
export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request as the battery describes it. */
export interface Call {
  method: string;
  /** Path and query, already percent-encoded as the attacker wants them. */
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

/** Sends a request with node:http (bounded by timeoutMs, so nothing hangs) and reads the whole answer. */
export function call(port: number, c: Call, timeoutMs = 5000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: c.method, path: c.path, headers: c.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${c.method} ${c.path.slice(0, 80)} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(c.body);
  });
}

/**
 * Everything a refused request must leave as it was: every event's record, head, snapshot and
 * viewers. The open reaction window is appended first, so a reaction wrongly counted shows.
 */
export async function stateOf(h: Harness, ids: readonly string[]): Promise<unknown> {
  await h.hub.fans.reactions.flush();
  const auth = { Authorization: `Bearer ${h.adminToken}` };
  const list = await call(h.service.port, { method: 'GET', path: '/events', headers: auth });
  const details = await Promise.all(ids.map((id) => call(h.service.port, { method: 'GET', path: `/events/${id}`, headers: auth })));
  for (const d of [list, ...details]) expect(d.status, d.text).to.equal(200);
  return { list: JSON.parse(list.text), details: details.map((d) => JSON.parse(d.text)) };
}

/** The error a refusal carries: the body's, or the first entry's of a multi-event poll. */
export function errorOf(text: string, entry: boolean): { code?: string; field?: string; status?: number } {
  const body = JSON.parse(text) as { error?: { code: string; field?: string }; results?: Array<{ status: number; error?: { code: string; field?: string } }> };
  if (!entry) return body.error ?? {};
  const first = body.results?.[0];
  return { ...(first?.error ?? {}), ...(first ? { status: first.status } : {}) };
}
