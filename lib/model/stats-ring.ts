import { STATS_EMOJI_PER_MINUTE, STATS_MINUTES, type StatsCounters, type StatsMinute } from '../model/records.js';

/**
 * The last STATS_MINUTES minutes of one event's engagement: one slot per minute, reused when
 * the clock comes round, so an event costs at most 60 buckets however long it runs.
 */
export class StatsRing {
  private readonly slots: Array<StatsMinute | undefined> = new Array(STATS_MINUTES);
  private newest = -Infinity;

  /** Merges counters into `minute` (max for peakViewers, sums for the rest). */
  merge(minute: number, c: StatsCounters): void {
    if (minute <= this.newest - STATS_MINUTES) return;
    this.newest = Math.max(this.newest, minute);
    const i = minute % STATS_MINUTES;
    let slot = this.slots[i];
    if (slot === undefined || slot.minute !== minute) {
      slot = { minute, peakViewers: 0, reactions: 0, chat: 0, emoji: emptyEmoji() };
      this.slots[i] = slot;
    }
    slot.peakViewers = Math.max(slot.peakViewers, c.peakViewers);
    slot.reactions += c.reactions;
    slot.chat += c.chat;
    mergeEmoji(slot.emoji, c.emoji);
  }

  /** Copies of the minutes from `sinceMinute` on that are still within the window, oldest first. */
  read(sinceMinute: number): StatsMinute[] {
    const floor = Math.max(sinceMinute, this.newest - STATS_MINUTES + 1);
    return this.slots
      .filter((s): s is StatsMinute => s !== undefined && s.minute >= floor)
      .sort((a, b) => a.minute - b.minute)
      .map((s) => ({ ...s, emoji: Object.assign(emptyEmoji(), s.emoji) }));
  }
}

/**
 * An emoji → count record without a prototype: an emoticon may be any 1–16 printable
 * characters, `__proto__` included, and must land as a plain key.
 */
export function emptyEmoji(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/**
 * Adds `from` into `into`, keeping the STATS_EMOJI_PER_MINUTE largest counts (ties by name):
 * ranked by count, not by arrival, so names that came first cannot hold the slots of the ones
 * fans actually send. What falls out still counts in the minute's `reactions`.
 */
export function mergeEmoji(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  let size = Object.keys(into).length;
  for (const [emoji, n] of Object.entries(from)) {
    if (!Number.isFinite(n) || n <= 0) continue;
    const had = Object.hasOwn(into, emoji);
    if (!had) size++;
    into[emoji] = (had ? into[emoji]! : 0) + n;
  }
  if (size <= STATS_EMOJI_PER_MINUTE) return;
  const ranked = Object.keys(into).sort((a, b) => into[b]! - into[a]! || (a < b ? -1 : a > b ? 1 : 0));
  for (const emoji of ranked.slice(STATS_EMOJI_PER_MINUTE)) delete into[emoji];
}
