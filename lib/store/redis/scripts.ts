/**
 * The Lua scripts of the Redis store. Each runs atomically inside Redis, which is what makes
 * seq assignment, the open/version checks, the registry bound and the snapshot compare-and-set
 * safe when several servers share one Redis. No script decodes or encodes JSON: cjson would turn
 * `[]` into `{}` and round big numbers, so JSON is made and folded in JS (lib/model/snapshot.ts) and
 * Lua only concatenates and stores strings.
 *
 * Keys of one event share the hash tag `{<id>}` so they stay together on a cluster slot; the
 * registry keys are global (a cluster deployment would need the registry on its own).
 */

/** Names of the record hash fields, in the order RECORD_FIELDS scripts return them. */
export const RECORD_FIELDS = ['epoch', 'meta', 'state', 'head', 'lastVersion', 'createdAt', 'snapSeq', 'tag'] as const;

/** The tag of an empty log (EMPTY_TAG in lib/model/cursor.ts), also for records made before tags. */
const EMPTY = `'00000000'`;

/**
 * Lua: the `p` (previous tag) field of the log entry at seq `n`, or nil when that entry is not
 * held. A position (seq, tag) below the head is verified by the entry after it naming it.
 */
const PREV_OF = `
local function prevOf(log, n)
  local e = redis.call('XRANGE', log, string.format('%d', n) .. '-0', string.format('%d', n) .. '-0')
  if #e == 0 then return nil end
  local fields = e[1][2]
  for i = 1, #fields, 2 do
    if fields[i] == 'p' then return fields[i + 1] end
  end
  return ''
end
local function holds(log, headSeq, headTag, seq, tag)
  if seq == headSeq then return (headTag or ${EMPTY}) == tag end
  if seq > headSeq then return false end
  local p = prevOf(log, seq + 1)
  -- '' is an entry written before tags: nothing to compare, as with an old cursor.
  return p ~= nil and (p == '' or p == tag)
end
`;

/**
 * KEYS: rec, events, order, log, pres, plex. ARGV: id, epoch, meta, state, createdAt, snapshot
 * json, maxEvents, channel. Returns 1 created, 0 exists, -1 registry full.
 */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then return -1 end
local n = redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[4], KEYS[5], KEYS[6])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'meta', ARGV[3], 'state', ARGV[4], 'head', '0',
  'lastVersion', '', 'createdAt', ARGV[5], 'snap', ARGV[6], 'snapSeq', '0', 'tag', ${EMPTY})
redis.call('ZADD', KEYS[2], n, ARGV[1])
redis.call('PUBLISH', ARGV[8], ARGV[1])
return 1
`;

/**
 * KEYS: rec, log[, once]. ARGV: tail (the delta's JSON after its opening brace, with a leading
 * comma), ts, requireOpen ('1'|'0'), version|'', status state|'', status meta json|'', ringSize,
 * kind, type|'', channel, id, once kind ('' | 'r' request | 'w' window), fingerprint | window
 * number, status, answer body with the APPEND_MARKS, once ttl ms.
 * Returns {'ok', seq, epoch, json, tag, prev}, {'replay', record}, {'already'}, {'pending'} or
 * {code, detail}.
 *
 * The seq is head + 1 read and written in this one step, so two servers never share or skip
 * one; the delta's JSON is joined here in entryJson's layout (lib/model/entry.ts), the one
 * both stores write. The tag is new at every append (a hash of the previous tag, Redis's clock
 * and the delta), so a seq re-used after a rollback never carries the tag it had. The once
 * record is checked and written in the same step as the append: an append whose reply was lost
 * is recorded exactly when it was applied, and its retry is answered from the record. The log
 * is trimmed to the ring, but never past the stored snapshot's seq: the snapshot at head is the
 * stored one folded with every entry after it, so those must stay.
 */
export const APPEND = `
local once = ARGV[12]
if once == 'r' then
  local v = redis.call('GET', KEYS[3])
  -- 'p' is this request's own reservation (runIdempotent reserves first, and refuses others).
  if v and v ~= 'p' then return {'replay', v} end
elseif once == 'w' then
  local last = redis.call('GET', KEYS[3])
  if last and tonumber(last) >= tonumber(ARGV[13]) then return {'already'} end
end
local f = redis.call('HMGET', KEYS[1], 'epoch', 'state', 'head', 'lastVersion', 'snapSeq', 'tag')
if not f[1] then return {'not_found'} end
if ARGV[3] == '1' and f[2] == 'ended' then return {'event_ended'} end
if ARGV[4] ~= '' and f[4] ~= '' and tonumber(ARGV[4]) <= tonumber(f[4]) then
  return {'stale_version', f[4]}
end
local seq = tonumber(f[3]) + 1
local s = string.format('%d', seq)
local json = '{"seq":' .. s .. ',"ts":' .. ARGV[2] .. ARGV[1]
local prev = f[6] or ${EMPTY}
local t = redis.call('TIME')
local tag = string.sub(redis.sha1hex(prev .. t[1] .. t[2] .. json), 1, 8)
if ARGV[9] ~= '' then
  redis.call('XADD', KEYS[2], s .. '-0', 'k', ARGV[8], 't', ARGV[9], 'j', json, 'g', tag, 'p', prev)
else
  redis.call('XADD', KEYS[2], s .. '-0', 'k', ARGV[8], 'j', json, 'g', tag, 'p', prev)
end
redis.call('HSET', KEYS[1], 'head', s, 'tag', tag)
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'lastVersion', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'state', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'meta', ARGV[6]) end
local minid = math.min(seq - tonumber(ARGV[7]) + 1, tonumber(f[5]) + 1)
if minid > 1 then redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', minid)) end
if once == 'r' then
  -- APPEND_MARKS (\\1e\\1, \\1s\\1, \\1t\\1): the answer as the first reply said it.
  local body = ARGV[15]
  body = (string.gsub(body, '\\1e\\1', f[1]))
  body = (string.gsub(body, '\\1s\\1', s))
  body = (string.gsub(body, '\\1t\\1', tag))
  local record = '{"f":' .. cjson.encode(ARGV[13]) .. ',"s":' .. ARGV[14] .. ',"b":' .. cjson.encode(body) .. '}'
  redis.call('SET', KEYS[3], record, 'PX', ARGV[16])
elseif once == 'w' then
  redis.call('SET', KEYS[3], ARGV[13], 'PX', ARGV[16])
end
redis.call('PUBLISH', ARGV[10], ARGV[11])
return {'ok', s, f[1], json, tag, prev}
`;

/**
 * KEYS: rec, log. ARGV: cached epoch|'', cached seq, cached tag. Returns {record fields,
 * snapshot json|'', entries after the snapshot}, or nil when there is no event. The caller's
 * cached fold is used (the stored json not sent again) only when it is of this epoch, not older
 * than the stored one, and still a position of this log (its tag verified): a fold of deltas a
 * rollback took away, or one past the head, is never trusted.
 */
export const SNAPSHOT = PREV_OF + `
local f = redis.call('HMGET', KEYS[1], 'epoch', 'meta', 'state', 'head', 'lastVersion', 'createdAt', 'snapSeq', 'tag')
if not f[1] then return nil end
local from = tonumber(f[7])
local cached = tonumber(ARGV[2])
local snap = ''
if ARGV[1] == f[1] and cached >= from and holds(KEYS[2], tonumber(f[4]), f[8], cached, ARGV[3]) then
  from = cached
else
  snap = redis.call('HGET', KEYS[1], 'snap')
end
local entries = redis.call('XRANGE', KEYS[2], string.format('%d', from + 1) .. '-0', '+')
return {f, snap, entries}
`;

/**
 * KEYS: rec, log. ARGV: epoch, seq, tag, snapshot json, ringSize. Stores a folded snapshot only
 * when it is a position of the current log (epoch, and the tag at its seq) newer than the stored
 * one (compare-and-set), then trims what the ring and the new snapshot no longer need. Returns
 * 1 stored, 0 not.
 */
export const STORE_SNAPSHOT = PREV_OF + `
local f = redis.call('HMGET', KEYS[1], 'epoch', 'snapSeq', 'head', 'tag')
if f[1] ~= ARGV[1] then return 0 end
local seq = tonumber(ARGV[2])
if tonumber(f[2]) >= seq then return 0 end
if not holds(KEYS[2], tonumber(f[3]), f[4], seq, ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'snap', ARGV[4], 'snapSeq', ARGV[2])
local minid = math.min(tonumber(f[3]) - tonumber(ARGV[5]) + 1, seq + 1)
if minid > 1 then redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', minid)) end
return 1
`;

/** KEYS: rec, log, pres, plex, events, stats. ARGV: id, channel. Returns 1 deleted, 0 none. */
export const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1
`;

/**
 * KEYS: rec, pres, plex. ARGV: viewer, expiresAt, viewer, expiresAt, ... Buffered touches land
 * here in one call per event. `pres` scores viewers by expiry (for counting); `plex` holds the
 * same members at score 0 so members can be listed in a stable (lexical) order. A touch for an
 * event that is gone is dropped, so a late flush never resurrects its keys.
 */
export const PRESENCE_TOUCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if redis.call('ZADD', KEYS[2], ARGV[i + 1], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[3], 0, ARGV[i])
  end
end
return 1
`;

/** KEYS: pres, plex. ARGV: viewer. */
export const PRESENCE_REMOVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

/**
 * KEYS: pres, plex. ARGV: now. Drops a bounded batch of expired viewers (so both sets stay
 * bounded by the live audience without a sweeper) and counts those whose expiry is after now.
 */
export const PRESENCE_COUNT = `
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 256)
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
  redis.call('ZREM', KEYS[2], unpack(old))
end
return redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf')
`;

/**
 * KEYS: pres, plex. ARGV: now, page|'', limit. Returns {members, next|nil}: present viewers after
 * `page` in lexical order. Scans at most a bounded number of members per call so expired ones
 * left in `plex` cannot make one call long; a page cut short still returns a `next`.
 */
export const PRESENCE_LIST = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[3])
local start = '-'
if ARGV[2] ~= '' then start = '(' .. ARGV[2] end
local out = {}
local scanned = 0
local budget = limit * 4 + 1000
local last = nil
local exhausted = false
while #out <= limit and scanned < budget do
  local batch = redis.call('ZRANGEBYLEX', KEYS[2], start, '+', 'LIMIT', 0, limit + 1 - #out)
  if #batch == 0 then
    exhausted = true
    break
  end
  for _, m in ipairs(batch) do
    local s = redis.call('ZSCORE', KEYS[1], m)
    if s and tonumber(s) > now then out[#out + 1] = m end
    last = m
  end
  scanned = scanned + #batch
  start = '(' .. batch[#batch]
end
if #out > limit then
  out[limit + 1] = nil
  return {out, out[limit]}
end
if not exhausted and last then return {out, last} end
return {out, false}
`;

/**
 * Lists a new idempotency record (KEYS[1]) in its kind's index (KEYS[2]) and its identity's
 * (KEYS[3]), sorted sets scored by when it was made, and trims both: entries past the kind's
 * TTL, then the identity's oldest beyond its cap, then the kind's oldest beyond its cap, each
 * forgotten record deleted. ARGV: [2] now, [3] the kind's TTL ms, [4] records per kind,
 * [5] records per identity, [6] the identity indexes' key prefix, [7] the records' key prefix.
 * A script fragment: whatever script records a key (this one, or an append that records its
 * answer) runs it, so every record is counted.
 */
export const IDEMPOTENCY_INDEX = `
local now = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ttl)
redis.call('ZADD', KEYS[2], now, KEYS[1])
redis.call('ZADD', KEYS[3], now, KEYS[1])
redis.call('PEXPIRE', KEYS[3], ttl)
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if over > 0 then
  for _, k in ipairs(redis.call('ZRANGE', KEYS[3], 0, over - 1)) do
    redis.call('DEL', k)
    redis.call('ZREM', KEYS[2], k)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, over - 1)
end
over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  for _, k in ipairs(redis.call('ZRANGE', KEYS[2], 0, over - 1)) do
    redis.call('DEL', k)
    local owner = string.match(string.sub(k, #ARGV[7] + 1), '^(%S+ %S+)')
    if owner then redis.call('ZREM', ARGV[6] .. owner, k) end
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
`;

/**
 * KEYS: [1] an idempotency record, [2] its kind's index, [3] its identity's index.
 * ARGV: [1] pending reservation ms, then IDEMPOTENCY_INDEX's. Returns the record when there is
 * one ('p' pending, or the answer), else reserves and lists it and returns nil.
 */
export const IDEMPOTENCY_BEGIN = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], 'p', 'PX', ARGV[1])
${IDEMPOTENCY_INDEX}
return nil
`;

/** KEYS: counter of one window. ARGV: expiry ms. Returns the hits in the window so far. */
export const RATE_HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

/** Every script, by the command name the link defines it under. */
export const SCRIPTS = {
  hlCreate: CREATE,
  hlAppend: APPEND,
  hlSnapshot: SNAPSHOT,
  hlStoreSnapshot: STORE_SNAPSHOT,
  hlDelete: DELETE,
  hlPresenceTouch: PRESENCE_TOUCH,
  hlPresenceRemove: PRESENCE_REMOVE,
  hlPresenceCount: PRESENCE_COUNT,
  hlPresenceList: PRESENCE_LIST,
  hlIdemBegin: IDEMPOTENCY_BEGIN,
  hlRateHit: RATE_HIT,
};
