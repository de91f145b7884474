import { OPS_EVENT } from '../protocol.js';
import { HubError } from './errors.js';
import type { EventRecord } from '../model/records.js';

/** Who is asking, as a verified token says; anonymous requests have no Principal at all. */
export interface Principal {
  /** The token's `sub`: the viewer id everywhere. */
  sub: string | null;
  /** The token's `name`, shown in chat. */
  name: string | null;
  /** `publish` and/or `admin` (admin implies publish and reads every event). */
  scopes: ReadonlySet<string>;
  /** The event ids the token is limited to, or null for no limit. */
  events: readonly string[] | null;
  /** When the token expires (ms since epoch), or null. */
  expiresAt: number | null;
}

export type Scope = 'publish' | 'admin';

/** True when the principal holds the scope (admin implies publish). */
export function hasScope(principal: Principal | null, scope: Scope): boolean {
  if (!principal) return false;
  return principal.scopes.has(scope) || (scope === 'publish' && principal.scopes.has('admin'));
}

/** True when the token's `events` claim does not rule this event out. */
function allowsEvent(principal: Principal, eventId: string): boolean {
  return principal.events === null || principal.events.includes(eventId);
}

/** Throws 401 without a token, 403 without the scope or outside the token's `events`. */
export function requireScope(principal: Principal | null, scope: Scope, eventId?: string): Principal {
  if (!principal) throw new HubError('unauthorized', `this needs a token with the ${scope} scope`);
  if (!hasScope(principal, scope)) throw new HubError('forbidden', `the token lacks the ${scope} scope`);
  if (eventId !== undefined && !allowsEvent(principal, eventId)) {
    throw new HubError('forbidden', `the token is not valid for event ${eventId}`);
  }
  return principal;
}

/** What writing an event's log needs: publish, or admin on the server's own ops event (so no publisher can fake the dashboard). */
export function requirePublish(principal: Principal | null, eventId: string): Principal {
  return requireScope(principal, eventId === OPS_EVENT ? 'admin' : 'publish', eventId);
}

/**
 * True when the principal may read the event: public to all; private to tokens that list it,
 * and to admins whose token lists no events (an `events` claim limits an admin too).
 */
export function canRead(principal: Principal | null, record: EventRecord): boolean {
  if (record.meta.visibility !== 'private') return true;
  if (!principal) return false;
  if (principal.events !== null) return principal.events.includes(record.id);
  return principal.scopes.has('admin');
}

/** The 401 (anonymous) or 403 (token without the event) for an event that may not be read, else null. */
export function readRefusal(principal: Principal | null, record: EventRecord): HubError | null {
  if (canRead(principal, record)) return null;
  if (!principal) return new HubError('unauthorized', `event ${record.id} is private: a token is needed`);
  return new HubError('forbidden', `the token does not list the private event ${record.id}`);
}

/** Throws 401 (anonymous) or 403 (token without the event) when the event may not be read. */
export function requireRead(principal: Principal | null, record: EventRecord): void {
  const refusal = readRefusal(principal, record);
  if (refusal) throw refusal;
}

/** What a viewer may write to (chat, reactions): what it may read, within the token's `events` claim. */
export function requireWrite(principal: Principal | null, record: EventRecord): void {
  requireRead(principal, record);
  if (principal && !allowsEvent(principal, record.id)) throw new HubError('forbidden', `the token is not valid for event ${record.id}`);
}
