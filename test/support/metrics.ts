import http from 'node:http';
import { METRICS_AUTH } from './server.js';

/**
 * Reads one sample from Prometheus text: `name` with exactly these labels (in any order), or
 * undefined when there is no such series.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map((x) => [x[1]!, x[2]!] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    if (JSON.stringify(got) === JSON.stringify(want)) return Number(m[3]);
  }
  return undefined;
}

/** Polls `check` until it returns true, at most `tries` times `everyMs` apart; no timing is asserted. */
export async function until(check: () => Promise<boolean> | boolean, what: string, tries = 200, everyMs = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** GET /metrics of a running server as text. */
export function scrape(url: string, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`${url}/metrics`, { agent, headers: METRICS_AUTH }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
