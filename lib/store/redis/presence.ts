/**
 * The presence touches a Redis store has not written yet. Every poll touches presence, so
 * writing each touch at once would cost Redis one command per poll; instead touches are kept
 * here (the last one per viewer wins) and written in batches, one script call per event and
 * chunk, pipelined. Pure: no client, no timer.
 */

/** Viewers per script call: keeps one call (and so one blocking step in Redis) short. */
const CHUNK = 500;

/** One batched write: the event and its viewer/expiry pairs, flattened for the script. */
export interface TouchBatch {
  eventId: string;
  args: string[];
}

/** Touches waiting to be written, per event. */
export class PresenceBuffer {
  private readonly pending = new Map<string, Map<string, number>>();

  /** Records a touch; a later one for the same viewer replaces it. */
  touch(eventId: string, viewerId: string, expiresAt: number): void {
    let viewers = this.pending.get(eventId);
    if (!viewers) this.pending.set(eventId, (viewers = new Map()));
    viewers.set(viewerId, expiresAt);
  }

  /** Drops a pending touch (the viewer left, so it must not be written after the removal). */
  remove(eventId: string, viewerId: string): void {
    this.pending.get(eventId)?.delete(viewerId);
  }

  /** Drops every pending touch of an event (deleted). */
  forget(eventId: string): void {
    this.pending.delete(eventId);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Takes the pending touches of one event, or of all events, as script batches. */
  take(eventId?: string): TouchBatch[] {
    const batches: TouchBatch[] = [];
    const events = eventId === undefined ? [...this.pending.keys()] : [eventId];
    for (const id of events) {
      const viewers = this.pending.get(id);
      if (!viewers) continue;
      this.pending.delete(id);
      let args: string[] = [];
      for (const [viewer, expiresAt] of viewers) {
        args.push(viewer, String(expiresAt));
        if (args.length >= CHUNK * 2) {
          batches.push({ eventId: id, args });
          args = [];
        }
      }
      if (args.length > 0) batches.push({ eventId: id, args });
    }
    return batches;
  }
}
