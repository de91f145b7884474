import { formatCursor } from '../model/cursor.js';
import type { PollAnswer } from '../protocol.js';
import type { LogEntry } from '../model/records.js';

/**
 * Everything a poll answer says, as the wire's PollAnswer but with the cursor still split
 * (epoch, seq) and the deltas still as stored entries; serialised once and shared by every
 * waiter it fits.
 */
export interface AnswerParts extends Omit<PollAnswer, 'cursor' | 'deltas'> {
  epoch: string;
  seq: number;
  /** The tag of the position (epoch, seq): the cursor carries it. */
  tag: string;
  entries: readonly LogEntry[];
}

/**
 * Serialises a poll answer. Deltas are stored as JSON text, so they are joined, never
 * re-encoded: the cost of an answer is one string concatenation whatever its size.
 */
export function serializeAnswer(a: AnswerParts): string {
  let out = `{"event":${JSON.stringify(a.event)},"cursor":"${formatCursor(a.epoch, a.seq, a.tag)}","deltas":[`;
  for (let i = 0; i < a.entries.length; i++) out += (i === 0 ? '' : ',') + a.entries[i]!.json;
  out += `],"more":${a.more},"viewers":${a.viewers},"reset":${a.reset},"ended":${a.ended}`;
  if (a.snapshot !== undefined) out += `,"snapshot":${JSON.stringify(a.snapshot)}`;
  if (a.missed !== undefined) out += `,"missed":${a.missed === null ? 'null' : a.missed}`;
  if (a.advice !== undefined) out += `,"advice":${JSON.stringify(a.advice)}`;
  if (a.viewerId !== undefined) out += `,"viewerId":${JSON.stringify(a.viewerId)}`;
  return `${out}}`;
}

/**
 * One serialised answer shared by every hold it fits: the UTF-8 bytes are made once, on first
 * use, so ten thousand waiters cost one encode and ten thousand writes of the same Buffer.
 */
export class SharedAnswer {
  readonly text: string;
  private encoded: Buffer | null = null;
  private binary: string | null = null;

  constructor(text: string) {
    this.text = text;
  }

  /** The answer as UTF-8 bytes. */
  bytes(): Buffer {
    return (this.encoded ??= Buffer.from(this.text, 'utf8'));
  }

  /** The UTF-8 bytes as a latin1 string (one char per byte), for a head and body written as one string. */
  latin1(): string {
    return (this.binary ??= this.bytes().toString('latin1'));
  }
}
