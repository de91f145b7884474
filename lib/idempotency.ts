import { createHash } from 'node:crypto';
import { HubError, invalid, isHubError } from './model/errors.js';
import type { AlreadyAppended, Store } from './store/types.js';
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

/** What an appending write hands to store.appendOnce: the scoped key and the body's fingerprint. */
export interface IdempotencyTicket {
  key: string;
  fingerprint: string;
}

/** A write's answer, and whether it came from the record of an earlier request. */
export type WrittenAnswer = StoredAnswer & { replayed: boolean };

/**
 * Runs an appending write at most once per (scope, key). The record lives in the append itself
 * (store.appendOnce: check, append, record in one step), so there is no reservation to free: a
 * write whose outcome is unknown (Redis timed out, the server died) is either recorded or did
 * not happen, and its retry replays the answer or appends once. A recorded answer is looked up
 * first, so a retry is answered even when the write's own checks (rate limit, ended event)
 * would now refuse it. Another body under the same key is 409 idempotency_conflict.
 */
export async function runIdempotentAppend(
  store: Store,
  scope: string,
  key: string,
  body: unknown,
  run: (ticket: IdempotencyTicket) => Promise<WrittenAnswer>,
): Promise<WrittenAnswer> {
  const ticket = { key: `${scope}|${key}`, fingerprint: fingerprint(body) };
  const found = await store.peekIdempotent(ticket.key);
  if (found.state === 'pending') throw pendingConflict();
  if (found.state === 'done') return replayed(found, ticket);
  return run(ticket);
}

/** The recorded answer of an appendOnce that was applied before, for this ticket's body only. */
export function replayed(recorded: NonNullable<AlreadyAppended['recorded']>, ticket: IdempotencyTicket): WrittenAnswer {
  if (recorded.fingerprint !== ticket.fingerprint) {
    throw new HubError('idempotency_conflict', 'this Idempotency-Key was used with another body', { field: 'Idempotency-Key' });
  }
  return { status: recorded.status, body: recorded.body, replayed: true };
}

/**
 * Runs a write that does not append (reactions) at most once per (scope, key): a reservation,
 * then the answer recorded. A repeat with an equal body replays the first answer; another body
 * is 409 idempotency_conflict; a write refused outright is forgotten so it may be retried, but
 * one whose outcome is unknown (503 unavailable) keeps its reservation until it expires, so a
 * retry meanwhile gets 409 in progress rather than a second write.
 */
export async function runIdempotent(
  store: Store,
  scope: string,
  key: string,
  body: unknown,
  now: number,
  run: () => Promise<StoredAnswer>,
): Promise<StoredAnswer & { replayed: boolean }> {
  const storeKey = `${scope}|${key}`;
  const print = fingerprint(body);
  const begun = await store.beginIdempotent(storeKey, now);
  if (begun.state === 'pending') throw pendingConflict();
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
    if (!(isHubError(err) && err.code === 'unavailable')) await store.releaseIdempotent(storeKey).catch(() => undefined);
    throw err;
  }
  // The write happened: its answer goes back even if recording it fails (the store's error is
  // counted by its instrumentation). A 503 here would invite a retry that, once the pending
  // reservation expired, would write a second time.
  await store.completeIdempotent(storeKey, print, answer.status, answer.body, now).catch(() => undefined);
  return { ...answer, replayed: false };
}
