import type { DeltaDraft } from '../protocol.js';

/**
 * The one JSON layout of a stored delta, for both stores: `{"seq":N,"ts":T,...draft}`. It is
 * made once, when appended, and sent as it is. The Redis store assigns seq inside its append
 * script, so the script joins the same three parts in the same order (lib/store/redis/scripts.ts);
 * whoever reads a stored delta's `ts` reads it from this fixed head, never by searching the JSON.
 */

/** The draft's JSON after its opening brace, with a leading comma (`}` for an empty draft). */
export function draftTail(draft: DeltaDraft): string {
  // A draft that smuggles seq or ts must not produce duplicate keys: the store stamps both.
  const { seq: _seq, ts: _ts, ...rest } = draft as DeltaDraft & { seq?: unknown; ts?: unknown };
  const body = JSON.stringify(rest);
  return body === '{}' ? '}' : `,${body.slice(1)}`;
}

/** A stored delta's JSON from its seq, its server timestamp and its draft's tail. */
export function entryJson(seq: number, ts: number, tail: string): string {
  return `{"seq":${seq},"ts":${ts}${tail}`;
}

const HEAD = /^\{"seq":\d+,"ts":(\d+)[,}]/;

/** The server timestamp in a stored delta's head (entryJson's layout); NaN if it is not one. */
export function entryTs(json: string): number {
  const m = HEAD.exec(json);
  return m ? Number(m[1]) : Number.NaN;
}
