import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import { HubError } from '../../model/errors.js';
import type { ChangeListener } from '../types.js';

/**
 * The Redis store's connections and what it means for them to be up: one for the publishers'
 * commands (appends, event writes, idempotency), one for everything the polls and viewers do
 * (reads, presence, counts, reaction limits, stats), and one subscribed to the store's change
 * channel (one per process, fanned out to every local listener). Owns reconnection, the
 * refusal of work while Redis is away, and close().
 *
 * Why a connection per role: Redis answers one connection's commands in order, so on a shared
 * connection an append waits behind every poll command sent before it, thousands in a burst of
 * re-polls (head-of-line blocking); on its own it waits only for other publishers' commands.
 *
 * Why these client settings:
 * - `enableOfflineQueue: false`: a command issued while disconnected is refused instead of
 *   queued, so callers get a prompt 503 rather than an unbounded wait, and a refused append can
 *   never be written later behind the caller's back (which the offline queue would do).
 * - `maxRetriesPerRequest: 0`: a command in flight when the connection drops is rejected, not
 *   resent on reconnect, for the same reason. It may still have run (the reply was lost): the
 *   caller saw a 503 and retries with its Idempotency-Key.
 * - `commandTimeout`: a half-open connection (no RST) cannot hold a caller past it.
 * - `retryStrategy`: reconnect forever with capped backoff; the store resumes on its own.
 */

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

/** Whose command it is: a publisher's write, or the poll and viewer traffic. */
export type Role = 'publish' | 'poll';

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Reply errors that mean "Redis cannot serve now", as opposed to a bug in a command. */
const TRANSIENT_REPLY = /^(LOADING|BUSY|OOM|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;

/** The 503 every method answers while Redis is away. */
function unavailable(message: string, cause?: unknown): HubError {
  return new HubError('unavailable', message, { retryAfterS: 2, cause });
}

/** The connections of one Redis store. */
export class RedisLink {
  /** The poll and viewer traffic's connection. */
  readonly client: Redis;
  /** The publishers' connection: nothing a poll sends queues in front of an append. */
  readonly writer: Redis;
  private readonly sub: Redis;
  private readonly listeners = new Set<ChangeListener>();
  private readonly readyListeners = new Set<(role: 'poll' | 'publish', reconnect: boolean) => void>();
  private readonly readyWaiters = { poll: new Set<Waiter>(), publish: new Set<Waiter>() };
  private readonly subWaiters = new Set<Waiter>();
  private subscribed = false;
  private everSubscribed = false;
  private readonly everReady = { poll: false, publish: false };
  private closed = false;

  constructor(
    url: string,
    private readonly channel: string,
    private readonly timeoutMs: number,
    /** Ids to wake after a resubscribe: wakes published while we were away are lost. */
    private readonly idsToWake: () => Promise<string[]>,
  ) {
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000) + Math.floor(Math.random() * 100),
    };
    this.client = new Redis(url, { ...options, connectionName: 'holdline-poll' });
    this.writer = new Redis(url, { ...options, connectionName: 'holdline-publish' });
    for (const role of ['poll', 'publish'] as const) {
      const redis = this.of(role);
      redis.on('error', () => {}); // surfaced through the commands that fail
      redis.on('ready', () => {
        // A reconnect may reach another Redis (a promoted replica) or a restarted one: whatever
        // was cached of the old one's data must be read again.
        const again = this.everReady[role];
        this.everReady[role] = true;
        this.settleAll(this.readyWaiters[role]);
        for (const listener of this.readyListeners) listener(role, again);
      });
    }
    this.sub = new Redis(url, { ...options, autoResubscribe: false, connectionName: 'holdline-changes' });
    this.sub.on('error', () => {});
    this.sub.on('close', () => {
      this.subscribed = false;
    });
    this.sub.on('ready', () => void this.subscribe());
    this.sub.on('message', (channel: string, id: string) => {
      if (channel === this.channel) this.emit(id);
    });
  }

  /** True while both command connections are up. */
  get isReady(): boolean {
    return !this.closed && this.connected('poll') && this.connected('publish');
  }

  /** The connection commands of `role` go on. */
  of(role: Role): Redis {
    return role === 'publish' ? this.writer : this.client;
  }

  /** Registers a Lua script as a command named `name` (EVALSHA, falling back to EVAL) on both connections. */
  define(name: string, lua: string): void {
    this.client.defineCommand(name, { lua });
    this.writer.defineCommand(name, { lua });
  }

  /** Calls a defined script with its keys and arguments on the connection of `role`. */
  script(name: string, keys: string[], args: Array<string | number>, role: Role = 'poll'): Promise<unknown> {
    const redis = this.of(role);
    const fn = (redis as unknown as Record<string, ScriptFn>)[name]!;
    return fn.call(redis, keys.length, ...keys, ...args);
  }

  /** Adds a defined script call to a pipeline. */
  queue(pipe: ChainableCommander, name: string, keys: string[], args: Array<string | number>): void {
    const fn = (pipe as unknown as Record<string, ScriptFn>)[name]!;
    void fn.call(pipe, keys.length, ...keys, ...args);
  }

  /** Runs Redis work once the connection of `role` is up (waiting at most the timeout) and maps failures to HubErrors. */
  async run<T>(work: () => Promise<T>, role: Role = 'poll'): Promise<T> {
    await this.whenUp(this.readyWaiters[role], () => this.connected(role), this.everReady[role]);
    try {
      return await work();
    } catch (err) {
      if (err instanceof HubError) throw err;
      const e = err as Error;
      if (e?.name === 'ReplyError' && !TRANSIENT_REPLY.test(e.message)) {
        throw new HubError('internal', `Redis refused a command: ${e.message}`, { cause: err });
      }
      throw unavailable(`Redis is unavailable: ${e?.message ?? String(err)}`, err);
    }
  }

  /** Subscribes a local listener to the changes every server publishes. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` each time a command connection is ready: `reconnect` after a loss. */
  onReady(listener: (role: 'poll' | 'publish', reconnect: boolean) => void): void {
    this.readyListeners.add(listener);
  }

  /** Tells this process's listeners that an event changed, as a change from Redis would. */
  emitLocal(id: string): void {
    this.emit(id);
  }

  /** Resolves when Redis answers and the change subscription is live; else 503. */
  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
    await this.run(() => this.writer.ping(), 'publish');
    await this.whenUp(this.subWaiters, () => this.subscribed, this.everSubscribed);
  }

  /** Deletes every key starting with `prefix`. */
  async purge(prefix: string): Promise<number> {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await this.client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  /** Quits every connection and refuses further work; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = unavailable('the store is closed');
    for (const waiters of [this.readyWaiters.poll, this.readyWaiters.publish, this.subWaiters]) {
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      waiters.clear();
    }
    this.listeners.clear();
    await Promise.all([quit(this.client), quit(this.writer), quit(this.sub)]);
  }

  private async subscribe(): Promise<void> {
    try {
      await this.sub.subscribe(this.channel);
    } catch {
      return; // the connection dropped again; the next 'ready' retries
    }
    this.subscribed = true;
    this.settleAll(this.subWaiters);
    if (!this.everSubscribed) {
      this.everSubscribed = true;
      return;
    }
    // Wakes published while we were unsubscribed are gone: tell every listener to re-read.
    const ids = await this.idsToWake();
    for (const id of ids) this.emit(id);
  }

  /** Ready, and the socket still writable: status lags a dropped socket by a turn or more. */
  private connected(role: Role): boolean {
    const redis = this.of(role);
    const stream = (redis as unknown as { stream?: { writable?: boolean } }).stream;
    return redis.status === 'ready' && stream?.writable === true;
  }

  private emit(id: string): void {
    if (this.closed) return;
    for (const listener of this.listeners) listener(id);
  }

  /**
   * Resolves when `up()`; before the first connection, waits for it up to the timeout (a store
   * used right after construction works); after that, refuses at once: Redis went away, and a
   * prompt 503 beats holding every request for the length of an outage.
   */
  private whenUp(waiters: Set<Waiter>, up: () => boolean, wasUp: boolean): Promise<void> {
    if (this.closed) return Promise.reject(unavailable('the store is closed'));
    if (up()) return Promise.resolve();
    if (wasUp) return Promise.reject(unavailable('Redis is unreachable; reconnecting'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          reject(unavailable('Redis is unreachable'));
        }, this.timeoutMs),
      };
      waiter.timer.unref();
      waiters.add(waiter);
    });
  }

  private settleAll(waiters: Set<Waiter>): void {
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.resolve();
    }
    waiters.clear();
  }
}

/** Says goodbye politely when connected, then makes sure no reconnect timer survives. */
async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => {});
  redis.disconnect();
}

/** Runs a pipeline or transaction, failing on the first command error. */
export async function exec(pipe: ChainableCommander): Promise<unknown[]> {
  const replies = await pipe.exec();
  if (!replies) throw new Error('transaction aborted');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
