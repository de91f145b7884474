import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** What every cached verification carries: the instant (ms) after which it must not be used. */
export interface Expiring {
  validUntil: number;
}

/**
 * Verified tokens, so a viewer polling in a loop does not cost a signature check per cycle.
 * Bounded by count; an entry is never returned at or after its validUntil (the token's exp),
 * whatever the LRU still holds. Keys are SHA-256 digests: fixed size, and no bearer token is kept
 * verbatim in a long-lived structure.
 */
export class TokenCache<V extends Expiring> {
  private readonly lru: LRUCache<string, V> | null;
  private readonly now: () => number;

  /** max 0 turns caching off. */
  constructor(max: number, now: () => number) {
    this.lru = max > 0 ? new LRUCache<string, V>({ max }) : null;
    this.now = now;
  }

  /** The entry for this token if it is still valid now. */
  get(token: string): V | undefined {
    if (!this.lru) return undefined;
    const key = digest(token);
    const entry = this.lru.get(key);
    if (entry === undefined) return undefined;
    if (entry.validUntil <= this.now()) {
      this.lru.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Remembers a verification; one that is already past its validUntil is not stored. */
  set(token: string, entry: V): void {
    if (!this.lru || entry.validUntil <= this.now()) return;
    this.lru.set(digest(token), entry);
  }

  /** Forgets a token (its key left the key set). */
  delete(token: string): void {
    this.lru?.delete(digest(token));
  }

  /** Entries held, expired or not. */
  get size(): number {
    return this.lru?.size ?? 0;
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
