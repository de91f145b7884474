import { LRUCache } from 'lru-cache';
import { IDEMPOTENCY_PENDING_MS, idempotencyOwner, idempotencyTtl, type IdempotencyKind, type StoreOptions } from '../types.js';

/** A pending reservation or a recorded answer. */
export type IdempotencyEntry = { state: 'pending' } | { state: 'done'; fingerprint: string; status: number; body: string };

/**
 * The memory store's idempotency records, bounded as the contract says (idempotencyOwner): one
 * LRU per kind, so a flood of viewer keys never pushes a publisher's record out, and per
 * identity at most idempotencyMaxPerIdentity records of a kind, its oldest forgotten first, so
 * one identity cannot push everyone else's out of its kind either.
 */
export class IdempotencyRecords {
  private readonly kinds: Record<IdempotencyKind, LRUCache<string, IdempotencyEntry>>;
  /** `<kind> <identity>` → its keys, oldest first. */
  private readonly owners = new Map<string, Set<string>>();
  private readonly perIdentity: number;

  constructor(options: StoreOptions) {
    this.perIdentity = options.idempotencyMaxPerIdentity ?? 1000;
    const make = (kind: IdempotencyKind) =>
      new LRUCache<string, IdempotencyEntry>({
        max: options.idempotencyMax,
        ttl: idempotencyTtl(kind, options),
        // An entry leaving for good (evicted, expired, deleted) leaves its owner's list too.
        dispose: (_value, key, reason) => {
          if (reason !== 'set') this.unlist(key);
        },
      });
    this.kinds = { publisher: make('publisher'), viewer: make('viewer') };
  }

  get(key: string): IdempotencyEntry | undefined {
    return this.lru(key).get(key);
  }

  /** Reserves a new key (pending, a minute at most). */
  reserve(key: string): void {
    this.set(key, { state: 'pending' }, IDEMPOTENCY_PENDING_MS);
  }

  /** Records the answer under the key, for its kind's TTL. */
  complete(key: string, entry: IdempotencyEntry): void {
    this.set(key, entry);
  }

  delete(key: string): void {
    this.lru(key).delete(key);
  }

  private set(key: string, entry: IdempotencyEntry, ttl?: number): void {
    const lru = this.lru(key);
    lru.set(key, entry, ttl === undefined ? {} : { ttl });
    const { kind, identity } = idempotencyOwner(key);
    const owner = `${kind} ${identity}`;
    let keys = this.owners.get(owner);
    if (!keys) this.owners.set(owner, (keys = new Set()));
    keys.add(key);
    while (keys.size > this.perIdentity) lru.delete(keys.values().next().value!);
  }

  private unlist(key: string): void {
    const { kind, identity } = idempotencyOwner(key);
    const owner = `${kind} ${identity}`;
    const keys = this.owners.get(owner);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.owners.delete(owner);
  }

  private lru(key: string): LRUCache<string, IdempotencyEntry> {
    return this.kinds[idempotencyOwner(key).kind];
  }
}
