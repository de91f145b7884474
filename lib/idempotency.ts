import { createHash } from 'node:crypto';
import { HubError, invalid, isHubError } from './model/errors.js';
import { hasScope, type Principal } from './model/access.js';
import type { IdempotencyKind, IdempotencyStore } from './store/types.js';
import { pendingConflict } from './store/types.js';

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

/** What an appending write hands to store.appendOnce: the scoped key and the body's fingerprint. */
export interface IdempotencyTicket {
  key: string;
  fingerprint: string;
}

/**
 * Runs an appending write at most once per (scope, key). The key is reserved first (the
 * stores bound records per kind and identity there); the answer is then recorded by the append
 * itself (store.appendOnce: check, append, record in one atomic step), so a write whose outcome
 * the caller never learnt (Redis answered late, the connection dropped, the server died) is
 * either recorded, and its retry gets that answer, or did not happen. An ambiguous failure (503
 * unavailable) never frees the key: a retry meanwhile gets 409 in progress or the recorded
 * answer, never a second write; a write refused outright (4xx) frees it. A repeat with an equal
 * body replays the first answer; another body is 409 idempotency_conflict.
 */
export async function runIdempotent(
  store: IdempotencyStore,
  scope: string,
  key: string,
  body: unknown,
  now: number,
  run: (ticket: IdempotencyTicket) => Promise<StoredAnswer & { replayed?: boolean }>,
): Promise<StoredAnswer & { replayed: boolean }> {
  const ticket: IdempotencyTicket = { key: `${scope}|${key}`, fingerprint: fingerprint(body) };
  const begun = await store.beginIdempotent(ticket.key, now);
  if (begun.state === 'pending') throw pendingConflict();
  if (begun.state === 'done') return replayed(begun, ticket);
  try {
    const answer = await run(ticket);
    return { ...answer, replayed: answer.replayed ?? false };
  } catch (err) {
    if (!(isHubError(err) && err.code === 'unavailable')) await store.releaseIdempotent(ticket.key).catch(() => undefined);
    throw err;
  }
}

/** The recorded answer of a write applied before, for this ticket's body only. */
export function replayed(recorded: { fingerprint: string; status: number; body: string }, ticket: IdempotencyTicket): StoredAnswer & { replayed: true } {
  if (recorded.fingerprint !== ticket.fingerprint) {
    throw new HubError('idempotency_conflict', 'this Idempotency-Key was used with another body', { field: 'Idempotency-Key' });
  }
  return { status: recorded.status, body: recorded.body, replayed: true };
}
