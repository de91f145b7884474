import { createHash } from 'node:crypto';
import { HubError, invalid } from './model/errors.js';
import { hasScope, type Principal } from './model/access.js';
import type { IdempotencyKind, IdempotencyStore } from './store/types.js';

/** An answer that may be remembered and replayed. */
export interface StoredAnswer {
  status: number;
  body: string;
}

const KEY = /^[\x21-\x7e]{1,255}$/;

/** Validates an Idempotency-Key header value (1–255 visible ASCII characters). */
export function checkIdempotencyKey(key: string): string {
  if (!KEY.test(key)) throw invalid('Idempotency-Key', 'Idempotency-Key must be 1–255 visible ASCII characters');
  return key;
}

/** A stable digest of a JSON body: equal JSON (whatever the key order) gives equal digests. */
export function fingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body ?? null)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/**
 * The scope an Idempotency-Key is honoured in, or null when it protects nothing and is ignored:
 * a publisher's appends (a token with publish), and chat of a signed-in viewer (a token with a
 * sub). Reactions and anonymous requests never get a record: an anonymous client could
 * otherwise store one per request with keys it makes up.
 */
export function idempotencyScope(kind: IdempotencyKind, principal: Principal | null, route: string): string | null {
  if (kind === 'publisher' && !hasScope(principal, 'publish')) return null;
  if (kind === 'viewer' && !principal?.sub) return null;
  // `<kind> <identity> <route>`: the stores bound records by kind and identity (idempotencyOwner).
  return `${kind} ${principal!.sub ?? '-'} ${route}`;
}

/**
 * Runs a write at most once per (scope, key): a repeat with an equal body replays the first
 * answer; another body is 409 idempotency_conflict; a failed write is forgotten so it may be retried.
 */
export async function runIdempotent(
  store: IdempotencyStore,
  scope: string,
  key: string,
  body: unknown,
  now: number,
  run: () => Promise<StoredAnswer>,
): Promise<StoredAnswer & { replayed: boolean }> {
  const storeKey = `${scope}|${key}`;
  const print = fingerprint(body);
  const begun = await store.beginIdempotent(storeKey, now);
  if (begun.state === 'pending') {
    throw new HubError('idempotency_conflict', 'a request with this Idempotency-Key is still in progress', { field: 'Idempotency-Key' });
  }
  if (begun.state === 'done') {
    if (begun.fingerprint !== print) {
      throw new HubError('idempotency_conflict', 'this Idempotency-Key was used with another body', { field: 'Idempotency-Key' });
    }
    return { status: begun.status, body: begun.body, replayed: true };
  }
  let answer: StoredAnswer;
  try {
    answer = await run();
  } catch (err) {
    await store.releaseIdempotent(storeKey).catch(() => undefined);
    throw err;
  }
  // The write happened: its answer goes back even if recording it fails (the store's error is
  // counted by its instrumentation). A 503 here would invite a retry that, once the pending
  // reservation expired, would write a second time.
  await store.completeIdempotent(storeKey, print, answer.status, answer.body, now).catch(() => undefined);
  return { ...answer, replayed: false };
}
