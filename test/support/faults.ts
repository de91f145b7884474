/**
 * The fault harness: what an operator meets between holdline and Redis, on a redis-server of
 * our own (test/support/redis-server.ts). A TCP proxy that can hold replies back, cut the
 * connection right after a command went through, or swallow everything; a rollback of an
 * event's keys by DUMP/RESTORE (what a failover to an asynchronous replica does); clocks that
 * run ahead. Every fault is started by the test and undone by it.
 */
import { Redis } from 'ioredis';
import net from 'node:net';
import type { Clock } from '../../lib/util/clock.js';
import { systemClock } from '../../lib/util/clock.js';
import { freePort } from './redis-server.js';

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

/** A snapshot of some keys (DUMP), to put back later (RESTORE … REPLACE): a rollback. */
export class KeySnapshot {
  private constructor(private readonly dumps: Array<[string, Buffer | null]>) {}

  /** DUMPs the keys now. */
  static async take(redis: Redis, keys: string[]): Promise<KeySnapshot> {
    const dumps: Array<[string, Buffer | null]> = [];
    for (const key of keys) dumps.push([key, await redis.dumpBuffer(key)]);
    return new KeySnapshot(dumps);
  }

  /** Puts every key back as it was when taken (a key that did not exist is deleted). */
  async restore(redis: Redis): Promise<void> {
    for (const [key, dump] of this.dumps) {
      if (dump === null) await redis.del(key);
      else await redis.restore(key, 0, dump, 'REPLACE');
    }
  }
}

/** The keys of one event in the Redis store's layout (lib/store/redis/codec.ts). */
export function eventKeys(prefix: string, id: string): string[] {
  return [`${prefix}ev:{${id}}`, `${prefix}ev:{${id}}:log`];
}

/** The system clock moved by `offsetMs`: a server whose clock is wrong. */
export function skewedClock(offsetMs: number): Clock {
  return { now: () => Date.now() + offsetMs, every: (ms, fn) => systemClock.every(ms, fn) };
}
