import { mergePatch } from './merge-patch.js';
import type { Delta, EventMeta, EventState, JsonObject, Snapshot } from '../protocol.js';

/** The snapshot of a freshly created event. */
export function emptySnapshot(meta: EventMeta, state: EventState): Snapshot {
  return { seq: 0, meta, state, score: {}, chat: [], reactions: { totals: {} } };
}

/** Reaction names a snapshot's totals keep by default (REACTION_TOTALS_MAX). */
export const REACTION_TOTALS_MAX = 32;

/**
 * Keeps the `max` largest totals (ties by name, so every store folds alike) and adds the rest
 * to `other`: every join carries the totals, so they must not grow with every name ever sent.
 */
function capTotals(reactions: Snapshot['reactions'], max: number): void {
  const names = Object.keys(reactions.totals);
  if (names.length <= max) return;
  const totals = reactions.totals;
  names.sort((a, b) => totals[b]! - totals[a]! || (a < b ? -1 : a > b ? 1 : 0));
  let other = reactions.other ?? 0;
  const kept: Record<string, number> = {};
  for (const [i, name] of names.entries()) {
    if (i < max) Object.defineProperty(kept, name, { value: totals[name]!, enumerable: true, writable: true, configurable: true });
    else other += totals[name]!;
  }
  reactions.totals = kept;
  reactions.other = other;
}

/**
 * Folds one delta into a snapshot, in place, and returns it. Both stores use this one fold, so
 * a snapshot is the same whichever store rebuilt it. `chatHistory` bounds the chat kept.
 */
export function applyDelta(snapshot: Snapshot, delta: Delta, chatHistory: number, totalsMax = REACTION_TOTALS_MAX): Snapshot {
  snapshot.seq = delta.seq;
  switch (delta.kind) {
    case 'score':
      snapshot.score =
        delta.op === 'patch' ? (mergePatch(snapshot.score, delta.data) as JsonObject) : delta.data;
      break;
    case 'status':
      snapshot.state = delta.data.state;
      if (delta.data.meta) snapshot.meta = delta.data.meta;
      break;
    case 'chat':
      if (delta.op === 'delete') {
        snapshot.chat = snapshot.chat.filter((m) => m.id !== delta.id);
      } else if (delta.user && delta.text !== undefined) {
        snapshot.chat.push({ id: delta.id, user: delta.user, text: delta.text, ts: delta.ts, seq: delta.seq });
        if (snapshot.chat.length > chatHistory) snapshot.chat.splice(0, snapshot.chat.length - chatHistory);
      }
      break;
    case 'reactions': {
      const totals = snapshot.reactions.totals;
      for (const [emoji, n] of Object.entries(delta.counts)) {
        // An emoticon may spell "__proto__" or "toString": define, never assign, and read own keys only.
        const value = (Object.hasOwn(totals, emoji) ? totals[emoji]! : 0) + n;
        Object.defineProperty(totals, emoji, { value, enumerable: true, writable: true, configurable: true });
      }
      capTotals(snapshot.reactions, totalsMax);
      break;
    }
    case 'notice':
      break;
  }
  return snapshot;
}
