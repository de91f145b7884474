/**
 * Faults between holdline and Redis, for the fault tests (test/faults.test.ts) and `make chaos`
 * (bench/chaos.ts): a TCP proxy in front of Redis that holds replies back, cuts a connection
 * right after a command went through, or swallows everything; a round-robin TCP balancer in
 * front of several servers that skips dead ones; a redis-server of our own that can be killed
 * and restarted; and a minimal RESP client for what a failover does to keys (DUMP/RESTORE), so
 * no Redis client library is needed outside lib/store/redis/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** One client connection through the proxy and its upstream connection to Redis. */
interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  /** Replies held back until this time (ms since epoch), in order. */
  heldUntil: number;
  held: Buffer[];
  /** Cut at the first reply: Redis ran the command, the client never hears of it. */
  cutOnReply: boolean;
  timer: NodeJS.Timeout | null;
}

/** A TCP proxy in front of Redis whose faults are switched by the test. */
export class RedisProxy {
  private server: net.Server | null = null;
  private readonly pairs = new Set<Pair>();
  private holdAfter: { marker: string; ms: number } | null = null;
  private cutAfterMarker: string | null = null;
  private blackholed = false;
  private releases: Array<Promise<void>> = [];
  port = 0;

  constructor(private readonly target: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port. */
  async start(): Promise<void> {
    this.port = await freePort();
    this.server = net.createServer((client) => this.connect(client));
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  /**
   * When the next command containing `marker` goes through, every reply on that connection from
   * then on is held back `ms` (the command itself runs at once: Redis did the work, the client
   * hears of it late, past its command timeout).
   */
  holdRepliesAfter(marker: string, ms: number): void {
    this.holdAfter = { marker, ms };
  }

  /** When the next command containing `marker` has been passed to Redis, the connection is cut. */
  cutAfter(marker: string): void {
    this.cutAfterMarker = marker;
  }

  /** Swallows all traffic both ways without closing anything (a partition, a half-open link). */
  blackhole(on: boolean): void {
    this.blackholed = on;
  }

  /** Drops every connection at once (Redis's side stays up: a network blip). */
  dropAll(): void {
    for (const p of this.pairs) this.destroy(p);
  }

  /** Resolves once every held reply has been let through (or its connection is gone). */
  async released(): Promise<void> {
    await Promise.all(this.releases);
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect({ port: this.target, host: '127.0.0.1' });
    const pair: Pair = { client, upstream, heldUntil: 0, held: [], timer: null, cutOnReply: false };
    this.pairs.add(pair);
    client.on('error', () => this.destroy(pair));
    upstream.on('error', () => this.destroy(pair));
    client.on('close', () => this.destroy(pair));
    upstream.on('close', () => this.destroy(pair));
    client.on('data', (chunk: Buffer) => {
      if (this.blackholed) return;
      const text = chunk.toString('latin1');
      if (this.holdAfter && text.includes(this.holdAfter.marker)) {
        pair.heldUntil = Date.now() + this.holdAfter.ms;
        this.holdAfter = null;
        this.releases.push(
          new Promise<void>((resolve) => {
            pair.timer = setTimeout(() => {
              pair.timer = null;
              for (const b of pair.held.splice(0)) if (!client.destroyed) client.write(b);
              resolve();
            }, pair.heldUntil - Date.now());
          }),
        );
      }
      upstream.write(chunk);
      if (this.cutAfterMarker && text.includes(this.cutAfterMarker)) {
        this.cutAfterMarker = null;
        pair.cutOnReply = true;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (this.blackholed) return;
      if (pair.cutOnReply) return this.destroy(pair);
      if (Date.now() < pair.heldUntil || pair.timer) pair.held.push(chunk);
      else client.write(chunk);
    });
  }

  private destroy(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream.destroy();
  }
}

/** A TCP balancer: each new connection goes to the next target that accepts it (a dead one is skipped). */
export class TcpBalancer {
  private server: net.Server | null = null;
  private next = 0;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly targets: () => number[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = net.createServer((client) => this.route(client, 0));
    await new Promise<void>((resolve) => this.server!.listen({ port: this.port, host: '127.0.0.1', backlog: 4096 }, resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  private route(client: net.Socket, tried: number): void {
    const targets = this.targets();
    if (tried >= targets.length || targets.length === 0) {
      client.destroy();
      return;
    }
    client.pause();
    const port = targets[this.next++ % targets.length]!;
    const upstream = net.connect({ port, host: '127.0.0.1' });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected) this.route(client, tried + 1);
      else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      if (connected) client.destroy();
    });
    client.on('close', () => {
      this.sockets.delete(client);
      upstream.destroy();
    });
  }
}

/** One RESP command as bytes (binary-safe arguments). */
function resp(args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Sends one command on a fresh connection and returns the raw reply once it is whole. */
export function redisCommand(port: number, args: Array<string | Buffer>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    const done = (err: Error | null, value?: Buffer) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    socket.setTimeout(5000, () => done(new Error('Redis did not answer within 5 s')));
    socket.on('error', (err) => done(err));
    socket.on('connect', () => socket.write(resp(args)));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const eol = data.indexOf('\r\n');
      if (eol < 0) return;
      const type = String.fromCharCode(data[0]!);
      if (type === '-') return done(new Error(data.subarray(1, eol).toString()));
      if (type !== '$') return done(null, data.subarray(0, eol + 2));
      const len = Number(data.subarray(1, eol).toString());
      if (len < 0) return done(null, Buffer.alloc(0));
      if (data.length >= eol + 2 + len + 2) done(null, data.subarray(eol + 2, eol + 2 + len));
    });
  });
}

/** The keys of one event in the Redis store's layout (lib/store/redis/codec.ts). */
export function eventKeys(prefix: string, id: string): string[] {
  return [`${prefix}ev:{${id}}`, `${prefix}ev:{${id}}:log`];
}

/** The bulk strings of a RESP array reply (binary-safe); a nil bulk is an empty buffer. */
function bulks(data: Buffer): Buffer[] | null {
  let at = data.indexOf('\r\n');
  if (at < 0 || data[0] !== 0x2a) return null;
  const n = Number(data.subarray(1, at).toString());
  const out: Buffer[] = [];
  at += 2;
  for (let i = 0; i < n; i++) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return null;
    const len = Number(data.subarray(at + 1, eol).toString());
    if (len < 0) {
      out.push(Buffer.alloc(0));
      at = eol + 2;
      continue;
    }
    if (data.length < eol + 2 + len + 2) return null;
    out.push(data.subarray(eol + 2, eol + 2 + len));
    at = eol + 2 + len + 2;
  }
  return out;
}

/**
 * DUMPs keys now, all in one step (one script: a replica's copy is of one moment, never of a
 * record without its log); restore() puts them back (RESTORE … REPLACE): a rollback, as a
 * failover to a replica that lacked the writes since.
 */
export async function dumpKeys(port: number, keys: string[]): Promise<{ restore(): Promise<void> }> {
  const script = `local out = {} for i, k in ipairs(KEYS) do out[i] = redis.call('DUMP', k) or '' end return out`;
  const reply = await new Promise<Buffer[]>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    socket.setTimeout(5000, () => (socket.destroy(), reject(new Error('Redis did not answer within 5 s'))));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(resp(['EVAL', script, String(keys.length), ...keys])));
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data[0] === 0x2d) return (socket.destroy(), reject(new Error(data.toString())));
      const parsed = bulks(data);
      if (parsed) {
        socket.destroy();
        resolve(parsed);
      }
    });
  });
  return {
    /** Puts every key back in one step too: an append never sees a restored record with a newer log. */
    async restore() {
      const put = `for i, k in ipairs(KEYS) do if ARGV[i] == '' then redis.call('DEL', k) else redis.call('RESTORE', k, 0, ARGV[i], 'REPLACE') end end return 1`;
      await redisCommand(port, ['EVAL', put, String(keys.length), ...keys, ...reply]);
    },
  };
}

/** A redis-server of our own on a free port, with fsync-always append-only persistence: killable, restartable. */
export class RedisProcess {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'hl-redis-'));
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts) on the same port and directory; resolves once it answers PING. */
  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--logfile', path.join(this.dir, 'redis.log'));
    this.child = spawn('redis-server', args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`redis-server exited with ${this.child.exitCode} (see ${this.dir}/redis.log)`);
      const up = await redisCommand(this.port, ['PING']).then((r) => r.toString().startsWith('+PONG'), () => false);
      if (up) return;
      if (Date.now() > deadline) throw new Error('redis-server did not answer within 10 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops it (by its pid) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Kills it and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
