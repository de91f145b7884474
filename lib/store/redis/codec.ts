import { EMPTY_TAG } from '../../model/cursor.js';
import type { DeltaDraft, DeltaKind, EventMeta, EventState } from '../../protocol.js';
import { draftTail, entryTs } from '../../model/entry.js';
import type { EventRecord, LogEntry } from '../../model/records.js';

/**
 * Key names and reply decoding for the Redis store: pure functions, no client. See
 * docs/SCALING.md for the data model these names make up.
 */

/** The keys of one store (one prefix): every server sharing the prefix shares the data. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Sorted set of event ids scored by a creation counter: listing in creation order. */
  get events(): string {
    return `${this.prefix}events`;
  }

  /** The creation counter (a tie-free order even when two events share a createdAt). */
  get order(): string {
    return `${this.prefix}events:order`;
  }

  /** The pub/sub channel carrying the id of every event that changed. */
  get channel(): string {
    return `${this.prefix}changes`;
  }

  /** Hash: the record fields plus the stored snapshot (snap, snapSeq). */
  record(id: string): string {
    return `${this.prefix}ev:{${id}}`;
  }

  /** Stream: the log, entry ids `<seq>-0`, fields k (kind), t (type), j (json). */
  log(id: string): string {
    return `${this.prefix}ev:{${id}}:log`;
  }

  /** Sorted set: viewer → presence expiry (ms). */
  presence(id: string): string {
    return `${this.prefix}ev:{${id}}:pres`;
  }

  /** Sorted set: the same viewers at score 0, for listing in lexical order. */
  /** Hash: the event's engagement stats by minute (lib/store/redis/stats.ts). */
  stats(id: string): string {
    return `${this.prefix}ev:{${id}}:stats`;
  }

  presenceLex(id: string): string {
    return `${this.prefix}ev:{${id}}:plex`;
  }

  /** String: the last reaction window of `source` applied to the event (AppendOnce), with a TTL. */
  window(id: string, source: string): string {
    return `${this.prefix}ev:{${id}}:rw:${source}`;
  }

  /** String: 'p' while an idempotent request is pending, then its recorded answer (JSON). */
  idempotency(key: string): string {
    return `${this.prefix}idem:${key}`;
  }

  /** Sorted set: a kind's idempotency records by creation time (the per-kind cap). */
  idempotencyKindIndex(kind: string): string {
    return `${this.prefix}idemkind:${kind}`;
  }

  /** The prefix of the per-identity indexes: `<prefix><kind> <identity>` is a sorted set of its records. */
  idempotencyOwnerPrefix(): string {
    return `${this.prefix}idemown:`;
  }

  /** Counter of one fixed rate-limit window. */
  rate(key: string, windowStart: number): string {
    return `${this.prefix}rate:${key}:${windowStart}`;
  }
}

/** Raw record fields in RECORD_FIELDS order, as HMGET returns them. */
export type RawRecord = Array<string | null>;

/** Decodes a record from HMGET fields (RECORD_FIELDS order); null when the event is absent. */
export function decodeRecord(id: string, f: RawRecord): EventRecord | null {
  const [epoch, meta, state, head, lastVersion, createdAt, , tag] = f;
  if (epoch == null || meta == null || state == null || head == null || createdAt == null) return null;
  return {
    id,
    epoch,
    meta: JSON.parse(meta) as EventMeta,
    state: state as EventState,
    head: Number(head),
    // Records written before tags have none: their head reads as the empty log's tag.
    tag: tag ?? EMPTY_TAG,
    lastVersion: lastVersion == null || lastVersion === '' ? null : Number(lastVersion),
    createdAt: Number(createdAt),
  };
}

/** A stream entry as XRANGE returns it: [id, [field, value, ...]]. */
export type RawEntry = [string, string[]];

/** Decodes one stream entry into a LogEntry without parsing its JSON. */
export function decodeEntry([id, fields]: RawEntry): LogEntry {
  let kind = '';
  let type: string | undefined;
  let json = '';
  // Entries written before tags have neither: '' is compared with nothing (tagAgrees).
  let tag = '';
  let prev = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    const name = fields[i];
    if (name === 'k') kind = value;
    else if (name === 't') type = value;
    else if (name === 'j') json = value;
    else if (name === 'g') tag = value;
    else if (name === 'p') prev = value;
  }
  return { seq: Number(id.slice(0, id.indexOf('-'))), kind: kind as DeltaKind, type, json, ts: entryTs(json), tag, prev };
}

/**
 * What the append script needs of a draft: the JSON after its opening brace (so Lua can put
 * seq and ts in front by concatenation, never re-encoding it) and the fields it checks.
 */
export function encodeDraft(draft: DeltaDraft): { tail: string; kind: DeltaKind; type: string } {
  const type = 'type' in draft && typeof draft.type === 'string' ? draft.type : '';
  return { tail: draftTail(draft), kind: draft.kind, type };
}
