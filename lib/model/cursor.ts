import { randomBytes } from 'node:crypto';
import { HubError } from './errors.js';

/**
 * `<epoch>-<seq>.<tag>`: the epoch, the seq and the tag as groups 1, 2 and 3. The tag (8 hex
 * digits, made by the store at each append) names the log position verifiably: a log that went
 * back (a Redis failover to a replica that lacked the last appends) and re-used the seq with new
 * content gives it a new tag. Cursors without a tag (`<epoch>-<seq>`, issued before tags) are
 * still read, unverified.
 */
export const CURSOR_PATTERN = /^([a-z0-9]{1,16})-([0-9]{1,15})(?:\.([0-9a-f]{8}))?$/;

/** The tag of a log with nothing appended yet. */
export const EMPTY_TAG = '00000000';

/** A parsed position in an event's log. */
export interface Cursor {
  epoch: string;
  seq: number;
  /** The position's tag, or null for an old cursor without one. */
  tag: string | null;
}

/** Parses `<epoch>-<seq>[.<tag>]`; throws 400 invalid_cursor naming `field` when malformed. */
export function parseCursor(text: string, field = 'cursor'): Cursor {
  const m = CURSOR_PATTERN.exec(text);
  if (!m) throw new HubError('invalid_cursor', `${field} must be a cursor this server gave`, { field });
  return { epoch: m[1]!, seq: Number(m[2]), tag: m[3] ?? null };
}

/** Formats a cursor for the wire (strings too, for the markers of a recorded answer). */
export function formatCursor(epoch: string, seq: number | string, tag: string): string {
  return `${epoch}-${seq}.${tag}`;
}

/** Whether a cursor's tag (null: none) agrees with the log's tag at that position ('': written before tags). */
export function tagAgrees(cursorTag: string | null, logTag: string): boolean {
  return cursorTag === null || logTag === '' || cursorTag === logTag;
}

/** A fresh epoch: time-ordered base36 plus randomness, so re-created logs never share one. */
export function newEpoch(now: number = Date.now()): string {
  const rand = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0');
  return (now.toString(36) + rand).slice(-16);
}
