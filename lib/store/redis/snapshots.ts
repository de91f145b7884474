import { LRUCache } from 'lru-cache';
import type { Delta, Snapshot } from '../../protocol.js';
import { applyDelta } from '../../model/snapshot.js';
import { decodeEntry, decodeRecord, type RawEntry, type RawRecord } from './codec.js';
import type { EventRecord } from '../../model/records.js';

/**
 * Snapshots for the Redis store, event-sourced.
 *
 * Redis holds, per event, a materialised snapshot `{snap, snapSeq}` next to the log. The
 * snapshot at head is always the stored one folded with the log entries after snapSeq, read in
 * one script; the append script never trims an entry the stored snapshot has not folded yet, so
 * that read is always complete. Concurrent appends from several servers therefore lose no
 * update whatever order the write-backs land in: the log is the truth, the stored snapshot only
 * a shortcut, and the merge patch runs in JS (lib/model/snapshot.ts), never in Lua.
 *
 * After each append the server folds forward (locally when its cached fold is contiguous with
 * the new delta, else by reading) and writes the result back with a compare-and-set script that
 * only moves snapSeq forward within the same epoch. Write-backs per event are serialised and
 * coalesced, so a burst of appends costs one write-back, not one each.
 */

/** The raw reply of the SNAPSHOT script. */
export interface SnapshotReply {
  fields: RawRecord;
  /** The stored snapshot json, or '' when the caller's cached fold was recent enough. */
  snap: string;
  entries: RawEntry[];
}

/** The Redis calls the cache needs (kept here as an interface so only redis.ts holds a client). */
export interface SnapshotIO {
  load(id: string, cachedEpoch: string, cachedSeq: number, cachedTag: string): Promise<SnapshotReply | null>;
  store(id: string, epoch: string, seq: number, tag: string, json: string): Promise<void>;
}

interface Folded {
  epoch: string;
  /** The tag of the position the fold is at (snapshot.seq): checked by Redis before it is trusted. */
  tag: string;
  /** Never mutated once cached: folds work on a clone. */
  snapshot: Snapshot;
}

/** Where an appended delta sits: its tag and the tag before it. */
interface Position {
  tag: string;
  prev: string;
}

interface Chain {
  queue: Array<{ epoch: string; delta: Delta; at: Position }>;
  done: Promise<void>;
}

/** Folds and caches snapshots per event and writes them back to Redis after appends. */
export class SnapshotCache {
  private readonly folded: LRUCache<string, Folded>;
  private readonly chains = new Map<string, Chain>();

  constructor(
    private readonly io: SnapshotIO,
    private readonly chatHistory: number,
    maxCached: number,
    /** Reaction totals kept by name (REACTION_TOTALS_MAX). */
    private readonly totalsMax?: number,
  ) {
    this.folded = new LRUCache({ max: Math.max(1, maxCached) });
  }

  /** The record and snapshot at head, read consistently; null when the event is absent. */
  async read(id: string): Promise<{ record: EventRecord; snapshot: Snapshot } | null> {
    const cached = this.folded.get(id);
    const reply = await this.io.load(id, cached?.epoch ?? '', cached?.snapshot.seq ?? 0, cached?.tag ?? '');
    if (!reply) return null;
    const record = decodeRecord(id, reply.fields);
    if (!record) return null;
    let base: Snapshot;
    if (reply.snap !== '') base = JSON.parse(reply.snap) as Snapshot;
    else if (cached && cached.epoch === record.epoch) base = structuredClone(cached.snapshot);
    else return null; // unreachable: the script sends the snapshot unless the cache matched
    for (const entry of reply.entries) applyDelta(base, JSON.parse(decodeEntry(entry).json) as Delta, this.chatHistory, this.totalsMax);
    // Folded up to the head the script read the record at.
    this.remember(id, record.epoch, record.tag, base);
    return { record, snapshot: structuredClone(base) };
  }

  /** Folds an appended delta forward and writes the snapshot back; never rejects. */
  advance(id: string, epoch: string, delta: Delta, at: Position): Promise<void> {
    const chain = this.chains.get(id);
    if (chain) {
      chain.queue.push({ epoch, delta, at });
      return chain.done;
    }
    const fresh: Chain = { queue: [{ epoch, delta, at }], done: Promise.resolve() };
    this.chains.set(id, fresh);
    fresh.done = this.drain(id, fresh);
    return fresh.done;
  }

  /** Forgets an event's cached fold (deleted). */
  forget(id: string): void {
    this.folded.delete(id);
  }

  /** Forgets every cached fold: after a reconnect Redis may be another (a failed-over replica). */
  clear(): void {
    this.folded.clear();
  }

  /** Waits for every write-back in flight (close()). */
  async settle(): Promise<void> {
    await Promise.all([...this.chains.values()].map((c) => c.done));
  }

  private async drain(id: string, chain: Chain): Promise<void> {
    // Let appends answered in the same turn of the event loop join this write-back.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (chain.queue.length > 0) {
      const batch = chain.queue.splice(0);
      const epoch = batch[batch.length - 1]!.epoch;
      const appended = batch.filter((b) => b.epoch === epoch).sort((a, b) => a.delta.seq - b.delta.seq);
      try {
        const folded = await this.foldForward(id, epoch, appended);
        if (folded) await this.io.store(id, epoch, folded.snapshot.seq, folded.tag, JSON.stringify(folded.snapshot));
      } catch {
        // The append itself is already acknowledged and durable in the log; a failed write-back
        // only delays trimming, and the next one (or any read) folds from the stored snapshot.
      }
    }
    // Synchronous with the last emptiness check: a later advance() starts a new chain.
    this.chains.delete(id);
  }

  /** The fold including `appended` with the tag of its position, or null when a newer one is cached. */
  private async foldForward(id: string, epoch: string, appended: Chain['queue']): Promise<Folded | null> {
    const cached = this.folded.get(id);
    const last = appended[appended.length - 1]!;
    if (cached && cached.epoch === epoch) {
      if (cached.snapshot.seq >= last.delta.seq) return null;
      // Contiguous by seq and by tag: each delta continues the position before it.
      let tag = cached.tag;
      let contiguous = true;
      for (const [i, a] of appended.entries()) {
        if (a.delta.seq !== cached.snapshot.seq + 1 + i || a.at.prev !== tag) {
          contiguous = false;
          break;
        }
        tag = a.at.tag;
      }
      if (contiguous) {
        const next = structuredClone(cached.snapshot);
        for (const a of appended) applyDelta(next, a.delta, this.chatHistory, this.totalsMax);
        this.remember(id, epoch, last.at.tag, next);
        return { epoch, tag: last.at.tag, snapshot: next };
      }
    }
    // Another server appended in between (or nothing is cached): fold from what Redis holds.
    const read = await this.read(id);
    return read && read.record.epoch === epoch ? { epoch, tag: read.record.tag, snapshot: read.snapshot } : null;
  }

  private remember(id: string, epoch: string, tag: string, snapshot: Snapshot): void {
    const cached = this.folded.get(id);
    // A newer fold of the same log stays; one at another tag (a rollback re-used the seqs) is replaced.
    if (cached && cached.epoch === epoch && cached.snapshot.seq > snapshot.seq) return;
    this.folded.set(id, { epoch, tag, snapshot });
  }
}
