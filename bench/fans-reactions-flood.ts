/**
 * Reaction flood: how many reactions per second one holdline process accepts, and how much
 * the log grows meanwhile. Starts the server as a child process (PORT=0), floods one event
 * over keep-alive sockets from this process, bounded in count and time, then checks that the
 * reactions deltas add up to exactly the number of 202 answers.
 *
 *   npx tsx bench/fans-reactions-flood.ts [--count 100000] [--seconds 20] [--sockets 32] [--window-ms 1000]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { Auth } from '../lib/trust/auth.js';
import type { PollAnswer, ReactionsDelta } from '../lib/protocol.js';

const SECRET = 'holdline-bench-secret-0123456789abcdef';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? def : Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const count = arg('count', 100_000);
const seconds = arg('seconds', 20);
const sockets = arg('sockets', 32);
const windowMs = arg('window-ms', 1000);

/** One request over the keep-alive agent; resolves with status and body. */
function request(agent: http.Agent, url: URL, method: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/holdline.ts', 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', JWT_SECRET: SECRET, RATE_REACTIONS: '999999/1', RATE_ADDRESS_REACTIONS: '999999/1', REACTION_WINDOW_MS: String(windowMs), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const base = await new Promise<URL>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) resolve(new URL(m[1]!));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${text}`)));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  try {
    const admin = await new Auth({ secret: SECRET, issuer: null, audience: null }).mint({ sub: 'bench', scope: 'publish admin' });
    const id = 'flood';
    const auth = { authorization: `Bearer ${admin}` };
    await request(agent, new URL(`/events/${id}`, base), 'PUT', JSON.stringify({ state: 'live' }), auth);
    const join = JSON.parse((await request(agent, new URL(`/events/${id}/poll`, base), 'GET')).body) as PollAnswer;

    const url = new URL(`/events/${id}/reactions`, base);
    const emoji = ['👏', '⚽', '🔥', ':D'];
    let sent = 0;
    let accepted = 0;
    let refused = 0;
    const started = Date.now();
    const deadline = started + seconds * 1000;
    const worker = async (): Promise<void> => {
      while (sent < count && Date.now() < deadline) {
        const n = sent++;
        const res = await request(agent, url, 'POST', JSON.stringify({ emoji: emoji[n % emoji.length] }));
        if (res.status === 202) accepted++;
        else refused++;
      }
    };
    await Promise.all(Array.from({ length: sockets }, worker));
    const elapsedS = (Date.now() - started) / 1000;

    // Let the last window close, then read every delta the flood appended.
    await new Promise((r) => setTimeout(r, windowMs * 2 + 200));
    let cursor = join.cursor;
    const deltas: ReactionsDelta[] = [];
    for (;;) {
      const page = JSON.parse((await request(agent, new URL(`/events/${id}/poll?cursor=${cursor}&timeout=0`, base), 'GET')).body) as PollAnswer;
      deltas.push(...(page.deltas.filter((d) => d.kind === 'reactions') as ReactionsDelta[]));
      cursor = page.cursor;
      if (!page.more) break;
    }
    const counted = deltas.reduce((n, d) => n + Object.values(d.counts).reduce((a, b) => a + b, 0), 0);
    const windows = Math.ceil((elapsedS * 1000) / windowMs) + 2;
    // Windows are consecutive and disjoint: a delta starting before the previous one ended would be a second delta in one window.
    const overlapping = deltas.filter((d, i) => i > 0 && d.window.from < deltas[i - 1]!.window.to).length;
    console.log(JSON.stringify({
      sockets, windowMs, sent, accepted, refused, elapsedS: Number(elapsedS.toFixed(2)),
      acceptedPerS: Math.round(accepted / elapsedS), deltasAppended: deltas.length, windowsElapsedAtMost: windows, overlapping,
      countedInDeltas: counted, exact: counted === accepted,
    }));
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
