/**
 * The simulator's Nchan dialect, so the bench can put a C reference (nginx + nchan, multipart
 * long-polling) beside holdline with the same viewers, publisher and seq accounting.
 *
 * Nchan assigns no seq a client can see, so the publisher writes its own: each message is a
 * delta `{seq, kind, data}` in JSON, numbered per channel in the order it is written (one
 * request in flight, so that is the order Nchan stores them). The channel is opened with
 * message 1 (`kind: 'created'`) before any viewer joins, the way holdline's PUT makes a
 * snapshot: a viewer's first poll (no message id) gets the channel from its oldest message at
 * once, which is its join. Later polls send the last answer's Last-Modified and Etag back as
 * If-Modified-Since and If-None-Match; a multipart answer carries every message since.
 */
import type { Delta } from '../../lib/protocol.js';

/** Path of a channel's publisher endpoint (bench/lib/nchan.ts configures both). */
export const nchanPubPath = (encodedEvent: string): string => `/pub/${encodedEvent}`;
/** Path of a channel's subscriber endpoint. */
export const nchanSubPath = (encodedEvent: string): string => `/sub/${encodedEvent}`;

/** The message that opens a channel: seq 1, before any viewer joins. */
export const NCHAN_OPENING = JSON.stringify({ seq: 1, kind: 'created', data: {} });

/** One score update as an Nchan message: the holdline score body wrapped in a delta with our seq. */
export function nchanMessage(seq: number, sentAt: number, update: string): string {
  return `{"seq":${seq},"kind":"score","data":{"sentAt":${sentAt},"update":${update}}}`;
}

/** The value of header `name` (lower-case) in a response head, or '' when absent. */
export function headerValue(head: string, name: string): string {
  let at = head.indexOf('\r\n');
  while (at !== -1) {
    const start = at + 2;
    const end = head.indexOf('\r\n', start);
    const stop = end === -1 ? head.length : end;
    const colon = head.indexOf(':', start);
    if (colon !== -1 && colon < stop && colon - start === name.length && head.slice(start, colon).toLowerCase() === name) {
      return head.slice(colon + 1, stop).trim();
    }
    at = end;
  }
  return '';
}

/** The cursor Nchan gives back with an answer: its Last-Modified and Etag, as request header lines. */
export function nchanCursor(head: string): string {
  const modified = headerValue(head, 'last-modified');
  const etag = headerValue(head, 'etag');
  return modified === '' ? '' : `If-Modified-Since: ${modified}\r\nIf-None-Match: ${etag}\r\n`;
}

/**
 * The deltas in one Nchan long-poll answer: a single message sent as it is, or several as
 * multipart/mixed parts (each part: its own headers, a blank line, the message).
 * Throws on a message that is not one of ours.
 */
export function nchanDeltas(head: string, body: Buffer): Delta[] {
  const type = headerValue(head, 'content-type');
  const text = body.toString('utf8');
  if (!type.startsWith('multipart/')) return [JSON.parse(text) as Delta];
  const m = /boundary=("?)([^";]+)\1/.exec(type);
  if (!m) throw new Error('multipart answer without a boundary');
  const delimiter = `--${m[2]}`;
  const out: Delta[] = [];
  let at = text.indexOf(delimiter);
  while (at !== -1) {
    const after = at + delimiter.length;
    if (text.startsWith('--', after)) break; // the closing delimiter
    const next = text.indexOf(`\r\n${delimiter}`, after);
    if (next === -1) throw new Error('multipart part without its closing delimiter');
    const headEnd = text.indexOf('\r\n\r\n', after);
    // A part with no headers of its own starts its body right after the delimiter's CRLF.
    const bodyStart = headEnd !== -1 && headEnd < next ? headEnd + 4 : after + 2;
    out.push(JSON.parse(text.slice(bodyStart, next)) as Delta);
    at = next + 2;
  }
  return out;
}
