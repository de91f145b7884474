import { randomBytes } from 'node:crypto';
import { HubError } from './errors.js';

/** `<epoch>-<seq>`: the epoch and the seq as groups 1 and 2. */
export const CURSOR_PATTERN = /^([a-z0-9]{1,16})-([0-9]{1,15})$/;

/** A parsed position in an event's log. */
export interface Cursor {
  epoch: string;
  seq: number;
}

/** Parses `<epoch>-<seq>`; throws 400 invalid_cursor naming `field` when malformed. */
export function parseCursor(text: string, field = 'cursor'): Cursor {
  const m = CURSOR_PATTERN.exec(text);
  if (!m) throw new HubError('invalid_cursor', `${field} must look like <epoch>-<seq>`, { field });
  return { epoch: m[1]!, seq: Number(m[2]) };
}

/** Formats a cursor for the wire. */
export function formatCursor(epoch: string, seq: number): string {
  return `${epoch}-${seq}`;
}

/** A fresh epoch: time-ordered base36 plus randomness, so re-created logs never share one. */
export function newEpoch(now: number = Date.now()): string {
  const rand = randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0');
  return (now.toString(36) + rand).slice(-16);
}
