import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { HubError } from '../../lib/model/errors.js';
import { MemoryStore } from '../../lib/store/memory/store.js';
import { RedisStore, type RedisStoreOptions } from '../../lib/store/redis/store.js';
import type { Store, StoreOptions } from '../../lib/store/types.js';

/** Where the tests find Redis; a missing Redis fails the Redis suites, it never skips them. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Small bounds so trimming and refusals are reached in a few calls. */
export const TEST_OPTIONS: StoreOptions = {
  ringSize: 8,
  chatHistory: 3,
  maxEvents: 5,
  idempotencyTtlMs: 60_000,
  idempotencyMax: 100,
};

/** A fresh key prefix: every test owns its keys on the shared Redis. */
export function testPrefix(): string {
  return `hl-test-${randomBytes(6).toString('hex')}:`;
}

/** Builds stores of one kind for one test; `peer()` is a second server on the same data. */
export interface StoreHarness {
  readonly kind: 'memory' | 'redis';
  store: Store;
  /** Another store sharing this one's data (a second server); the same store for memory. */
  peer(): Promise<Store>;
  /** Closes every store made and deletes every key it wrote. */
  dispose(): Promise<void>;
}

/** Makes a harness of the given kind with TEST_OPTIONS and the overrides. */
export async function makeHarness(kind: 'memory' | 'redis', overrides: Partial<StoreOptions> = {}): Promise<StoreHarness> {
  const options = { ...TEST_OPTIONS, ...overrides };
  if (kind === 'memory') {
    const store = new MemoryStore(options);
    return { kind, store, peer: async () => store, dispose: () => store.close() };
  }
  const redisOptions: RedisStoreOptions = { ...options, url: REDIS_URL, keyPrefix: testPrefix(), presenceFlushMs: 50 };
  const made: RedisStore[] = [];
  const make = async (): Promise<RedisStore> => {
    const store = new RedisStore(redisOptions);
    made.push(store);
    try {
      await store.ping();
    } catch (err) {
      await Promise.all(made.map((s) => s.close()));
      throw new Error(
        `Redis is not reachable at ${REDIS_URL} (set REDIS_URL, or see docs/SCALING.md to run one): ${(err as Error).message}`,
      );
    }
    return store;
  };
  const store = await make();
  return {
    kind,
    store,
    peer: make,
    async dispose() {
      await made[0]!.purge().catch(() => {});
      await Promise.all(made.map((s) => s.close()));
    },
  };
}

/** Asserts that a promise rejects with a HubError of the code, and returns it. */
export async function expectHubError(promise: Promise<unknown>, code: HubError['code']): Promise<HubError> {
  try {
    await promise;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(HubError);
    expect((err as HubError).code).to.equal(code);
    return err as HubError;
  }
  expect.fail(`expected a rejection with ${code}`);
}

/** Polls `check` until it returns true or the time runs out. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
