/**
 * `make chaos`: exactly-once through faults, measured. Three holdline servers on one Redis (each
 * through a fault proxy), 500 simulated viewers behind a round-robin balancer following two
 * events, 20 publishes a second with an Idempotency-Key each (a failed one is retried on the
 * next server), and for two minutes a fault every few seconds: kill -9 of a server (restarted
 * after), a Redis restart, replies held past the command timeout, dropped connections, a
 * black hole, and one rollback of both events' keys (DUMP, then RESTORE a few seconds later,
 * as a failover to an asynchronous replica). Then it checks:
 * - every acknowledged publish is in the logs exactly once (those acknowledged between the
 *   rollback's DUMP and RESTORE may be gone: that is what a rollback loses; never twice);
 * - no viewer lost, repeated or reordered a delta, and every viewer reached the final heads;
 * - the only resets are the rollback's, at most one per viewer and event, each signalled.
 * Writes bench/results/<date>-chaos.{md,json}; exits 1 on any failure. Options: --duration S
 * (120), --viewers N (500), --rate R (20).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulate, type SimulationReport } from '../tools/simulator/index.js';
import { dumpKeys, eventKeys, freePort, RedisProcess, RedisProxy, TcpBalancer } from './lib/faults.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/dist\/?$/, '/');
const SECRET = 'holdline-chaos-secret-0123456789abcdef0123';
const PREFIX = 'chaos:';
const EVENTS = ['chaos-a', 'chaos-b'];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}
const DURATION_MS = arg('duration', 120) * 1000;
const VIEWERS = arg('viewers', 500);
const RATE = arg('rate', 20);

/** An HS256 token, signed here so the run needs nothing but node. */
async function token(claims: Record<string, unknown>): Promise<string> {
  const { createHmac } = await import('node:crypto');
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/** One holdline server process behind its own fault proxy. */
class Server {
  child: ChildProcess | null = null;
  readonly log: string;
  alive = false;
  constructor(
    readonly n: number,
    readonly port: number,
    readonly proxy: RedisProxy,
  ) {
    this.log = path.join(os.tmpdir(), `holdline-chaos-${n}-${port}.log`);
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const fd = openSync(this.log, 'a');
    this.child = spawn(process.execPath, ['--max-semi-space-size=32', path.join(ROOT, 'dist/bin/holdline.js'), 'serve'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        REDIS_URL: this.proxy.url,
        REDIS_PREFIX: PREFIX,
        JWT_SECRET: SECRET,
        RING_SIZE: '8192',
        LOG_LEVEL: 'warn',
        DRAIN_TIMEOUT_MS: '3000',
        HOLD_TIMEOUT_MS: '10000',
        MAX_HELD_PER_ADDRESS: '0',
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`server ${this.n} exited at start; see ${this.log}`);
      const ok = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`server ${this.n} did not start; see ${this.log}`);
      await sleep(100);
    }
    this.alive = true;
  }
  async kill9(): Promise<void> {
    const child = this.child;
    this.alive = false;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }
  async stop(): Promise<void> {
    const child = this.child;
    this.alive = false;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}

/** One publish: its key, event, and what it was answered. */
interface Publish {
  i: number;
  key: string;
  event: string;
  sentAt: number;
  ackedAt: number | null;
  seq: number | null;
  attempts: number;
  outcomes: Record<string, number>;
}

interface FaultRecord {
  at: number;
  kind: string;
  detail: string;
}

async function main(): Promise<number> {
  const started = Date.now();
  const redis = new RedisProcess(await freePort());
  await redis.start();
  const servers: Server[] = [];
  for (let n = 0; n < 3; n++) {
    const proxy = new RedisProxy(redis.port);
    await proxy.start();
    servers.push(new Server(n, await freePort(), proxy));
  }
  await Promise.all(servers.map((s) => s.start()));
  const balancer = new TcpBalancer(() => servers.filter((s) => s.alive).map((s) => s.port));
  await balancer.start();
  const admin = `Bearer ${await token({ sub: 'chaos', scope: 'publish admin' })}`;
  for (const id of EVENTS) {
    const res = await fetch(`${servers[0]!.url}/events/${id}`, { method: 'PUT', headers: { authorization: admin, 'content-type': 'application/json' }, body: JSON.stringify({ title: id, state: 'live' }) });
    if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${id}: ${res.status}`);
  }

  const publishes: Publish[] = [];
  const faults: FaultRecord[] = [];
  let rollback: { dumpedAt: number; restoredAt: number } | null = null;
  let stopPublishing = false;
  let stopFaults = false;
  const t0 = { at: 0 };
  const rel = () => Date.now() - t0.at;

  /**
   * Publishes until answered 201, the next server after each failure. A publish whose outcome
   * was unknown keeps its key reserved (409 in progress) until the reservation lapses (60 s),
   * so it is given up only after 80 s.
   */
  const publishOne = async (p: Publish): Promise<void> => {
    const body = JSON.stringify({ op: 'patch', data: { n: p.i, key: p.key } });
    let server = p.i % servers.length;
    const until = Date.now() + 80_000;
    while (Date.now() < until) {
      p.attempts += 1;
      const target = servers[server % servers.length]!;
      server += 1;
      let outcome: string;
      try {
        const res = await fetch(`${target.url}/events/${p.event}/scores`, {
          method: 'POST',
          headers: { authorization: admin, 'content-type': 'application/json', 'idempotency-key': p.key },
          body,
          signal: AbortSignal.timeout(8000),
        });
        const text = await res.text();
        outcome = String(res.status);
        if (res.status === 201) {
          p.ackedAt = Date.now();
          p.seq = (JSON.parse(text) as { seq: number }).seq;
          p.outcomes[outcome] = (p.outcomes[outcome] ?? 0) + 1;
          return;
        }
      } catch (err) {
        outcome = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      }
      p.outcomes[outcome] = (p.outcomes[outcome] ?? 0) + 1;
      await sleep(250);
    }
  };

  const publishing = async (): Promise<void> => {
    const inFlight = new Set<Promise<void>>();
    const interval = 1000 / RATE;
    const start = Date.now();
    for (let i = 0; !stopPublishing; i++) {
      const due = start + i * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      if (stopPublishing) break;
      const p: Publish = { i, key: `chaos-${i}`, event: EVENTS[i % EVENTS.length]!, sentAt: Date.now(), ackedAt: null, seq: null, attempts: 0, outcomes: {} };
      publishes.push(p);
      const run = publishOne(p).finally(() => inFlight.delete(run));
      inFlight.add(run);
    }
    await Promise.all(inFlight);
  };

  const fault = (kind: string, detail: string) => {
    faults.push({ at: rel(), kind, detail });
    process.stderr.write(`chaos: ${(rel() / 1000).toFixed(1)} s ${kind} ${detail}\n`);
  };

  /** A fault every few seconds for the duration, the rollback once in the middle. */
  const faulting = async (): Promise<void> => {
    const plan: Array<() => Promise<void>> = [
      async () => {
        const s = servers[1]!;
        fault('kill -9', `server ${s.n}`);
        await s.kill9();
        await sleep(3000);
        await s.start();
        fault('restarted', `server ${s.n}`);
      },
      async () => {
        const s = servers[2]!;
        fault('replies held 2.6 s', `server ${s.n}, from its next publish (past the 2 s command timeout)`);
        s.proxy.holdRepliesAfter('"key":"chaos-', 2600);
        await sleep(3000);
      },
      async () => {
        fault('redis restart', 'SIGKILL, then started again on the same append-only file');
        await redis.stop('SIGKILL');
        await sleep(1000);
        await redis.start();
      },
      async () => {
        const s = servers[0]!;
        fault('connections dropped', `server ${s.n}`);
        s.proxy.dropAll();
        await sleep(1000);
      },
      async () => {
        const s = servers[2]!;
        fault('black hole 3 s', `server ${s.n}`);
        s.proxy.blackhole(true);
        await sleep(3000);
        s.proxy.blackhole(false);
        s.proxy.dropAll();
      },
      async () => {
        const s = servers[0]!;
        fault('cut after a publish', `server ${s.n}: the connection closes once Redis took the append`);
        s.proxy.cutAfter('"key":"chaos-');
        await sleep(1000);
      },
      async () => {
        const s = servers[2]!;
        fault('kill -9', `server ${s.n}`);
        await s.kill9();
        await sleep(3000);
        await s.start();
        fault('restarted', `server ${s.n}`);
      },
    ];
    let step = 0;
    const rollbackAt = DURATION_MS / 2;
    while (!stopFaults) {
      await sleep(3000);
      if (stopFaults) break;
      if (rollback === null && rel() >= rollbackAt) {
        const keys = EVENTS.flatMap((id) => eventKeys(PREFIX, id));
        const dump = await dumpKeys(redis.port, keys);
        const dumpedAt = Date.now();
        fault('rollback: DUMP', 'both events');
        await sleep(4000);
        await dump.restore();
        rollback = { dumpedAt, restoredAt: Date.now() };
        fault('rollback: RESTORE', 'both events back to the DUMP (the appends in between are gone)');
        continue;
      }
      await plan[step++ % plan.length]!();
    }
  };

  const heads = async (): Promise<number[]> => {
    const out: number[] = [];
    for (const id of EVENTS) {
      for (;;) {
        const live = servers.find((s) => s.alive)!;
        const res = await fetch(`${live.url}/events/${id}`).catch(() => null);
        if (res?.status === 200) {
          const cursor = ((await res.json()) as { cursor: string }).cursor;
          out.push(Number(/-(\d+)/.exec(cursor)![1]));
          break;
        }
        await sleep(200);
      }
    }
    return out;
  };

  let running: Promise<unknown> = Promise.resolve();
  const report: SimulationReport = await simulate({
    url: balancer.url,
    events: EVENTS,
    viewers: VIEWERS,
    rampMs: 5000,
    durationMs: DURATION_MS,
    publishRate: 0,
    createEvents: false,
    holdTimeoutSec: 8,
    settleMs: 30_000,
    heads: async () => {
      stopPublishing = true;
      stopFaults = true;
      await running;
      // Everything back: all servers up, no proxy fault left.
      for (const s of servers) {
        s.proxy.blackhole(false);
        if (!s.alive) await s.start();
      }
      await sleep(2000);
      return heads();
    },
    onPhase: (phase) => {
      if (phase === 'publishing') {
        t0.at = Date.now();
        running = Promise.all([publishing(), faulting()]);
      }
    },
  });

  // The logs as they stand, read through the API from seq 0 (the ring holds the whole run).
  const logged = new Map<string, number>();
  const duplicatesInLog: string[] = [];
  for (const id of EVENTS) {
    const detail = (await (await fetch(`${servers[0]!.url}/events/${id}`)).json()) as { cursor: string };
    let cursor = `${detail.cursor.slice(0, detail.cursor.indexOf('-'))}-0`;
    for (;;) {
      const ans = (await (await fetch(`${servers[0]!.url}/events/${id}/poll?cursor=${cursor}&timeout=0`)).json()) as { cursor: string; more: boolean; reset: boolean; deltas: Array<{ data?: { key?: string } }> };
      if (ans.reset) throw new Error(`reading the log of ${id} from 0 answered a reset: the ring is too small`);
      for (const d of ans.deltas) {
        const key = d.data?.key;
        if (!key) continue;
        if (logged.has(key)) duplicatesInLog.push(key);
        logged.set(key, (logged.get(key) ?? 0) + 1);
      }
      cursor = ans.cursor;
      if (!ans.more) break;
    }
  }
  const acked = publishes.filter((p) => p.ackedAt !== null);
  const inRollback = (p: Publish) => rollback !== null && p.ackedAt! >= rollback.dumpedAt - 50 && p.sentAt <= rollback.restoredAt;
  const missing = acked.filter((p) => !logged.has(p.key));
  const lostToRollback = missing.filter(inRollback);
  const lostOtherwise = missing.filter((p) => !inRollback(p));
  const unacked = publishes.filter((p) => p.ackedAt === null);
  const retried = publishes.filter((p) => p.attempts > 1);
  const replayedKeys = retried.filter((p) => p.ackedAt !== null);

  const perViewer = report.perViewer;
  const resetsAllowed = rollback === null ? 0 : EVENTS.length;
  const badViewers = perViewer.filter((v) => v.gaps > 0 || v.duplicates > 0 || v.outOfOrder > 0 || v.resets > resetsAllowed || v.behind || !v.joined);

  const failures: string[] = [];
  if (lostOtherwise.length > 0) failures.push(`${lostOtherwise.length} acknowledged publishes missing from the log (not the rollback's): ${lostOtherwise.slice(0, 5).map((p) => p.key).join(', ')}`);
  if (duplicatesInLog.length > 0) failures.push(`${duplicatesInLog.length} publishes in the log twice: ${duplicatesInLog.slice(0, 5).join(', ')}`);
  if (report.gaps > 0) failures.push(`${report.gaps} deltas lost by viewers (silently skipped)`);
  if (report.duplicates > 0) failures.push(`${report.duplicates} deltas delivered twice`);
  if (report.outOfOrder > 0) failures.push(`${report.outOfOrder} deltas out of order`);
  if (report.behind > 0) failures.push(`${report.behind} viewers behind the final heads`);
  if (report.connected < report.viewers) failures.push(`${report.viewers - report.connected} viewers never joined`);
  if (badViewers.some((v) => v.resets > resetsAllowed)) failures.push('resets beyond the rollback\'s one per viewer and event');
  if (rollback === null && report.resets > 0) failures.push(`${report.resets} resets without a rollback`);
  if (unacked.length > 0) failures.push(`${unacked.length} publishes never acknowledged within 80 s of retries`);

  const date = new Date().toISOString().slice(0, 10);
  const summary = {
    date,
    durationS: DURATION_MS / 1000,
    viewers: VIEWERS,
    events: EVENTS,
    ratePerS: RATE,
    wallS: Math.round((Date.now() - started) / 1000),
    faults,
    publishes: publishes.length,
    acknowledged: acked.length,
    retried: retried.length,
    retriedThenAcknowledged: replayedKeys.length,
    unacknowledged: unacked.length,
    outcomes: publishes.reduce<Record<string, number>>((o, p) => {
      for (const [k, n] of Object.entries(p.outcomes)) o[k] = (o[k] ?? 0) + n;
      return o;
    }, {}),
    inLog: logged.size,
    duplicatesInLog: duplicatesInLog.length,
    lostToRollback: lostToRollback.length,
    lostOtherwise: lostOtherwise.length,
    viewersReport: {
      connected: report.connected,
      delivered: report.delivered,
      gaps: report.gaps,
      duplicates: report.duplicates,
      outOfOrder: report.outOfOrder,
      resets: report.resets,
      behind: report.behind,
      errors: report.errors,
      viewersWithProblems: report.viewersWithProblems,
      latencyMs: report.latencyMs,
    },
    // Of the viewers the simulator lists (those with any problem, resets included; at most 100).
    perViewerResets: histogram(perViewer.map((v) => v.resets)),
    badViewers: badViewers.slice(0, 20),
    failures,
    ok: failures.length === 0,
  };
  const dir = path.join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${date}-chaos.json`), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(path.join(dir, `${date}-chaos.md`), markdown(summary));
  process.stdout.write(markdown(summary));

  await balancer.close();
  await Promise.all(servers.map((s) => s.stop()));
  for (const s of servers) await s.proxy.close();
  await redis.dispose();
  for (const s of servers) if (failures.length > 0) process.stderr.write(`server ${s.n} log: ${s.log}\n${readFileSync(s.log, 'utf8').split('\n').slice(-5).join('\n')}\n`);
  return failures.length === 0 ? 0 : 1;
}

/** How many viewers had each count (of resets). */
function histogram(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

function markdown(s: Record<string, unknown> & { faults: FaultRecord[]; failures: string[]; viewersReport: Record<string, unknown> }): string {
  const lines = [
    `# make chaos — ${String(s['date'])}`,
    '',
    `Three servers on one Redis (each through a fault proxy), ${String(s['viewers'])} simulated viewers behind a round-robin balancer on ${(s['events'] as string[]).join(' and ')}, ${String(s['ratePerS'])} publishes/s with an Idempotency-Key each (a failed one retried on the next server), ${String(s['durationS'])} s of faults; ${String(s['wallS'])} s wall time.`,
    '',
    `**${s['ok'] ? 'PASSED' : 'FAILED'}**${s.failures.length ? `: ${s.failures.join('; ')}` : ': every acknowledged publish once in the log, no viewer lost, repeated or reordered a delta, the only resets the rollback\'s'}`,
    '',
    '| measured | value |',
    '|---|---|',
    `| publishes sent / acknowledged / retried (then acknowledged) / never acknowledged in 80 s | ${String(s['publishes'])} / ${String(s['acknowledged'])} / ${String(s['retried'])} (${String(s['retriedThenAcknowledged'])}) / ${String(s['unacknowledged'])} |`,
    `| attempts by outcome | ${JSON.stringify(s['outcomes'])} |`,
    `| distinct publishes in the logs / in twice | ${String(s['inLog'])} / ${String(s['duplicatesInLog'])} |`,
    `| acknowledged, then lost to the rollback / lost otherwise | ${String(s['lostToRollback'])} / ${String(s['lostOtherwise'])} |`,
    `| viewers joined | ${String(s.viewersReport['connected'])} |`,
    `| deltas delivered (all viewers) | ${String(s.viewersReport['delivered'])} |`,
    `| lost / duplicated / out of order (all viewers) | ${String(s.viewersReport['gaps'])} / ${String(s.viewersReport['duplicates'])} / ${String(s.viewersReport['outOfOrder'])} |`,
    `| resets (all viewers) / viewers by resets | ${String(s.viewersReport['resets'])} / ${JSON.stringify(s['perViewerResets'])} |`,
    `| viewers behind at the end | ${String(s.viewersReport['behind'])} |`,
    `| viewer request errors | ${JSON.stringify(s.viewersReport['errors'])} |`,
    '',
    '## Faults',
    '',
    '| at (s) | fault | detail |',
    '|---|---|---|',
    ...s.faults.map((f) => `| ${(f.at / 1000).toFixed(1)} | ${f.kind} | ${f.detail} |`),
    '',
  ];
  return `${lines.join('\n')}\n`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
