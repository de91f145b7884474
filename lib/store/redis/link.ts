import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import { HubError } from '../../model/errors.js';
import type { ChangeListener } from '../types.js';

/**
 * The Redis store's two connections and what it means for them to be up: one for commands,
 * one subscribed to the store's change channel (one per process, fanned out to every local
 * listener). Owns reconnection, the refusal of work while Redis is away, and close().
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
  readonly client: Redis;
  private readonly sub: Redis;
  private readonly listeners = new Set<ChangeListener>();
  private readonly readyWaiters = new Set<Waiter>();
  private readonly subWaiters = new Set<Waiter>();
  private subscribed = false;
  private everSubscribed = false;
  private everReady = false;
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
    this.client = new Redis(url, options);
    this.client.on('error', () => {}); // surfaced through the commands that fail
    this.client.on('ready', () => {
      this.everReady = true;
      this.settleAll(this.readyWaiters);
    });
    this.sub = new Redis(url, { ...options, autoResubscribe: false });
    this.sub.on('error', () => {});
    this.sub.on('close', () => {
      this.subscribed = false;
    });
    this.sub.on('ready', () => void this.subscribe());
    this.sub.on('message', (channel: string, id: string) => {
      if (channel === this.channel) this.emit(id);
    });
  }

  /** True while the command connection is up. */
  get isReady(): boolean {
    return !this.closed && this.connected();
  }

  /** Registers a Lua script as a command named `name` (EVALSHA, falling back to EVAL). */
  define(name: string, lua: string): void {
    this.client.defineCommand(name, { lua });
  }

  /** Calls a defined script with its keys and arguments. */
  script(name: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    const fn = (this.client as unknown as Record<string, ScriptFn>)[name]!;
    return fn.call(this.client, keys.length, ...keys, ...args);
  }

  /** Adds a defined script call to a pipeline. */
  queue(pipe: ChainableCommander, name: string, keys: string[], args: Array<string | number>): void {
    const fn = (pipe as unknown as Record<string, ScriptFn>)[name]!;
    void fn.call(pipe, keys.length, ...keys, ...args);
  }

  /** Runs Redis work once connected (waiting at most the timeout) and maps failures to HubErrors. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.whenUp(this.readyWaiters, () => this.connected(), this.everReady);
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

  /** Resolves when Redis answers and the change subscription is live; else 503. */
  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
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

  /** Quits both connections and refuses further work; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = unavailable('the store is closed');
    for (const waiters of [this.readyWaiters, this.subWaiters]) {
      for (const w of waiters) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      waiters.clear();
    }
    this.listeners.clear();
    await Promise.all([quit(this.client), quit(this.sub)]);
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
  private connected(): boolean {
    const stream = (this.client as unknown as { stream?: { writable?: boolean } }).stream;
    return this.client.status === 'ready' && stream?.writable === true;
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
