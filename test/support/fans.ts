/** Helpers of the fans tests (chat, reactions, JSONP, CORS): reading the log behind the HTTP answers. */
import type { Delta, ReactionsDelta } from '../../lib/protocol.js';
import type { Store } from '../../lib/store/types.js';

/** Every delta of an event's log, parsed. */
export async function logOf(store: Store, eventId: string): Promise<Delta[]> {
  const read = await store.read(eventId, 0, 1_000_000);
  return (read?.entries ?? []).map((e) => JSON.parse(e.json) as Delta);
}

/** The reactions deltas of an event's log. */
export async function reactionDeltas(store: Store, eventId: string): Promise<ReactionsDelta[]> {
  return (await logOf(store, eventId)).filter((d): d is ReactionsDelta => d.kind === 'reactions');
}

/** Sum of every count of some reactions deltas. */
export function sumCounts(deltas: readonly ReactionsDelta[]): number {
  let n = 0;
  for (const d of deltas) for (const c of Object.values(d.counts)) n += c;
  return n;
}

/** POSTs one JSON body with fetch (keep-alive sockets, unlike supertest); resolves with the status. */
export async function postStatus(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}
