import { emptyEmoji } from '../../model/stats-ring.js';
import { STATS_EMOJI_PER_MINUTE, STATS_MINUTES, type StatsCounters, type StatsMinute } from '../../model/records.js';

/**
 * Engagement stats on Redis: one hash per event (`ev:{id}:stats`, beside the event's other keys)
 * with fields `n` (the newest minute recorded) and, per minute m, `m:pv` (peak viewers), `m:r`
 * (reactions), `m:c` (chat), `m:en` (distinct emoji) and `m:e:<emoji>`. Several servers merge
 * into it; the hash expires an hour after the last write, and deleteEvent deletes it.
 */

/** Seconds the stats hash outlives its last write: the hour it covers, and a margin. */
const STATS_TTL_S = STATS_MINUTES * 60 + 300;

/**
 * KEYS: rec, stats. ARGV: minute, peakViewers, reactions, chat, maxEmoji, keepMinutes, ttlSeconds,
 * then emoji, count pairs. Merges one event-minute (max for pv, sums for the rest, at most maxEmoji
 * distinct emoji), moves `n` forward and drops minutes that fell out of the window. Nothing for an
 * event that does not exist, or a minute already out of the window. Returns 1 recorded, 0 not.
 */
export const STATS_RECORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local m = tonumber(ARGV[1])
local keep = tonumber(ARGV[6])
local newest = tonumber(redis.call('HGET', KEYS[2], 'n') or '')
if newest and m <= newest - keep then return 0 end
local p = ARGV[1] .. ':'
if tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[2], p .. 'pv') or '0') then
  redis.call('HSET', KEYS[2], p .. 'pv', ARGV[2])
end
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[2], p .. 'r', ARGV[3]) end
if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[2], p .. 'c', ARGV[4]) end
local distinct = tonumber(redis.call('HGET', KEYS[2], p .. 'en') or '0')
for i = 8, #ARGV, 2 do
  local f = p .. 'e:' .. ARGV[i]
  if redis.call('HEXISTS', KEYS[2], f) == 1 then
    redis.call('HINCRBY', KEYS[2], f, ARGV[i + 1])
  else
    redis.call('HSET', KEYS[2], f, ARGV[i + 1])
    distinct = distinct + 1
  end
end
-- Ranked by count, not by arrival: past maxEmoji the smallest counts (ties by name) go.
local max = tonumber(ARGV[5])
if distinct > max then
  local rows = {}
  local prefix = p .. 'e:'
  local all = redis.call('HGETALL', KEYS[2])
  for j = 1, #all, 2 do
    if string.sub(all[j], 1, #prefix) == prefix then
      rows[#rows + 1] = { all[j], tonumber(all[j + 1]) }
    end
  end
  table.sort(rows, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] < b[1] end)
  for j = max + 1, #rows do redis.call('HDEL', KEYS[2], rows[j][1]) end
  distinct = math.min(#rows, max)
end
redis.call('HSET', KEYS[2], p .. 'en', distinct)
if not newest or m > newest then
  redis.call('HSET', KEYS[2], 'n', ARGV[1])
  for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
    local fm = tonumber(string.match(f, '^(%-?%d+):'))
    if fm and fm <= m - keep then redis.call('HDEL', KEYS[2], f) end
  end
end
redis.call('EXPIRE', KEYS[2], ARGV[7])
return 1
`;

/** The ARGV of STATS_RECORD for one event-minute. */
export function statsArgs(minute: number, c: StatsCounters): Array<string | number> {
  const args: Array<string | number> = [minute, c.peakViewers, c.reactions, c.chat, STATS_EMOJI_PER_MINUTE, STATS_MINUTES, STATS_TTL_S];
  for (const [emoji, n] of Object.entries(c.emoji)) if (Number.isSafeInteger(n) && n > 0) args.push(emoji, n);
  return args;
}

/** The minutes from `sinceMinute` on, oldest first, from the stats hash as HGETALL returns it. */
export function decodeStats(fields: Record<string, string>, sinceMinute: number): StatsMinute[] {
  const byMinute = new Map<number, StatsMinute>();
  for (const [field, value] of Object.entries(fields)) {
    const m = /^(-?\d+):(pv|r|c|e:(.*))$/s.exec(field);
    if (!m) continue;
    const minute = Number(m[1]);
    if (minute < sinceMinute) continue;
    let row = byMinute.get(minute);
    if (!row) byMinute.set(minute, (row = { minute, peakViewers: 0, reactions: 0, chat: 0, emoji: emptyEmoji() }));
    const n = Number(value);
    if (m[2] === 'pv') row.peakViewers = n;
    else if (m[2] === 'r') row.reactions = n;
    else if (m[2] === 'c') row.chat = n;
    else row.emoji[m[3]!] = n;
  }
  return [...byMinute.values()].sort((a, b) => a.minute - b.minute);
}
