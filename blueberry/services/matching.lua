-- The matching engine. Every change to presence, the queue and offers is one run of this
-- script, so Redis runs it alone: pairing needs no lock, and no reader ever sees half a change.
-- Keys are derived from ARGV (one Redis server, not a cluster); services/matching.py lists them.
-- ARGV: command, now (ms), offer window (ms), grace (ms), presence TTL (ms), scan limit, args...
-- Events for users are published from here on `bb:seeker:<id>` in the hub's message format.

local P = 'bb:match:'
local ONLINE, OFFERS = P .. 'online', P .. 'offers'
-- The waiting queue is split by gender and wish (`bb:match:queue:fm` holds women who want men):
-- a scan then reads only the people whose gender fits both ways. Each part is FIFO by score.
local QUEUES = {}
for _, g in ipairs({'m', 'f'}) do
  for _, w in ipairs({'m', 'f', 'a'}) do QUEUES[#QUEUES + 1] = P .. 'queue:' .. g .. w end
end
local AVOID_TTL_S = 86400
local CHUNK = 50
local cmd, now = ARGV[1], tonumber(ARGV[2])
local OFFER_MS, GRACE_MS, PRESENCE_MS, SCAN = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local function tell_json(uid, type_, data_json)
  redis.call('PUBLISH', 'bb:seeker:' .. uid, '\n{"type":"' .. type_ .. '","data":' .. data_json .. '}')
end

local function tell(uid, type_, data)
  tell_json(uid, type_, cjson.encode(data))
end

-- A seeker's profile is packed in one binary string (Redis' struct library): unpacking it is a
-- single C call, and one HMGET fetches a whole chunk of candidates.
local PACKING = '>BBBBBBHdds'
local GENDERS, CODES = {'male', 'female'}, {male = 1, female = 2, any = 0}
local SEEKERS = P .. 'seekers'

local function pack(p)
  local located = p.lat and p.lon and 1 or 0
  return struct.pack(PACKING, p.age, p.amin, p.amax, CODES[p.gender], CODES[p.pref], located, p.radius,
                     p.lat or 0, p.lon or 0, p.name)
end

local function unpack_profile(packed)
  if not packed then return nil end
  local age, amin, amax, g, pref, located, radius, lat, lon, name = struct.unpack(PACKING, packed)
  local p = {age = age, amin = amin, amax = amax, gender = GENDERS[g], pref = GENDERS[pref] or 'any',
             radius = radius, name = name}
  p.gb, p.pb = string.byte(p.gender), string.byte(p.pref)  -- compared with queue members' letters
  if located == 1 then p.lat, p.lon = lat, lon end
  return p
end

local function profile(uid)
  return unpack_profile(redis.call('HGET', SEEKERS, uid))
end

-- What an offer shows of a seeker besides name, age and gender (username, bio, interests,
-- photo), as JSON: kept apart from the packed profile, read only when an offer is made.
local CARDS = P .. 'cards'

local function card(uid)
  local raw = redis.call('HGET', CARDS, uid)
  return raw and cjson.decode(raw) or {}
end

local function distance_km(lat1, lon1, lat2, lon2)
  local r = math.pi / 180
  local dlat, dlon = (lat2 - lat1) * r, (lon2 - lon1) * r
  local h = math.sin(dlat / 2) ^ 2 + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin(dlon / 2) ^ 2
  return 2 * 6371 * math.asin(math.min(1, math.sqrt(h)))
end

-- Queue members carry what the scan compares, so a scan reads no other key: age, youngest and
-- oldest wanted (3 digits each), gender `m`/`f`, wish `m`/`f`/`a`, location shared `1`/`0`, then
-- `:<user id>`. `030025035fm0:42`: user 42, 30, wants 25–35, a woman who wants a man.
local function queue_member(uid, p)
  return string.format('%03d%03d%03d%s%s%d:%s', p.age, p.amin, p.amax, string.sub(p.gender, 1, 1),
                       string.sub(p.pref, 1, 1), p.lat and 1 or 0, uid)
end

local function member_uid(member)
  return string.sub(member, 14)
end

-- Why the person of a queue member does not fit `me`, or nil when they fit both ways. Age and
-- gender both ways (`a` accepts anyone); distance only when both shared a location, and then
-- within both radii. Bytes and locals only: this is the hot loop.
local DIGITS3 = 48 * 111
local ANY, LOCATED = string.byte('a'), string.byte('1')
local function verdict(me, member)
  local a1, a2, a3, b1, b2, b3, c1, c2, c3, g, wish, located = string.byte(member, 1, 12)
  local age = a1 * 100 + a2 * 10 + a3 - DIGITS3
  if age < me.amin or age > me.amax or (me.pb ~= ANY and me.pb ~= g) then return 'not_for_me' end
  local amin, amax = b1 * 100 + b2 * 10 + b3 - DIGITS3, c1 * 100 + c2 * 10 + c3 - DIGITS3
  if me.age < amin or me.age > amax or (wish ~= ANY and wish ~= me.gb) then return 'not_for_them' end
  if located == LOCATED and me.lat then
    local them = profile(member_uid(member))
    if them and distance_km(me.lat, me.lon, them.lat, them.lon) > math.min(me.radius, them.radius) then
      return 'too_far'
    end
  end
  return nil
end

-- Matched before, blocked either way, or declined: never offered to each other.
local function avoided(a, b)
  return redis.call('SISMEMBER', P .. 'avoid:' .. a, b) == 1 or redis.call('SISMEMBER', P .. 'avoid:' .. b, a) == 1
end

local function avoid_each_other(a, b)
  for _, pair in ipairs({{a, b}, {b, a}}) do
    redis.call('SADD', P .. 'avoid:' .. pair[1], pair[2])
    redis.call('EXPIRE', P .. 'avoid:' .. pair[1], AVOID_TTL_S)
  end
end

local function online(uid)
  return redis.call('EXISTS', P .. 'online:' .. uid) == 1
end

local function load_offer(id)
  local raw = redis.call('GET', P .. 'offer:' .. id)
  return raw and cjson.decode(raw)
end

local function save_offer(offer)
  redis.call('SET', P .. 'offer:' .. offer.match_id, cjson.encode(offer), 'KEEPTTL')
end

local function end_offer(offer)
  redis.call('DEL', P .. 'offer:' .. offer.match_id)
  redis.call('ZREM', OFFERS, offer.match_id)
  for _, uid in ipairs({offer.user1, offer.user2}) do
    if redis.call('GET', P .. 'user:' .. uid) == offer.match_id then redis.call('DEL', P .. 'user:' .. uid) end
  end
end

local function side(offer, uid)
  if offer.user1 == uid then return 1 elseif offer.user2 == uid then return 2 end
  return nil
end

-- What one side of an offer sees: the partner, the deadline, who has accepted so far.
local function offer_view(offer, s)
  local o = 3 - s
  local p = offer['user' .. o .. '_profile']
  local c = p.card or {}
  return {match_id = offer.match_id, expires_at = offer.expires_at / 1000,
          partner = {id = tonumber(offer['user' .. o]), display_name = p.name, age = p.age, gender = p.gender,
                     username = c.username, bio = c.bio, interests = c.interests, photo = c.photo},
          you_accepted = offer['user' .. s .. '_response'] == 'accept',
          partner_accepted = offer['user' .. o .. '_response'] == 'accept'}
end

local function make_offer(a, a_score, pa, b, b_score, pb)
  if tonumber(a) > tonumber(b) then  -- user1 is the smaller id, as in SQL
    a, a_score, pa, b, b_score, pb = b, b_score, pb, a, a_score, pa
  end
  local id = a .. ':' .. b .. ':' .. redis.call('INCR', P .. 'seq')
  local offer = {match_id = id, user1 = a, user2 = b, user1_name = pa.name, user2_name = pb.name,
                 status = 'pending', created_at = now, updated_at = now, expires_at = now + OFFER_MS,
                 user1_response = cjson.null, user2_response = cjson.null,
                 user1_queued_at = a_score, user2_queued_at = b_score,
                 user1_profile = {name = pa.name, age = pa.age, gender = pa.gender, card = card(a)},
                 user2_profile = {name = pb.name, age = pb.age, gender = pb.gender, card = card(b)}}
  local ttl = OFFER_MS + GRACE_MS
  redis.call('SET', P .. 'offer:' .. id, cjson.encode(offer), 'PX', ttl)
  redis.call('SET', P .. 'user:' .. a, id, 'PX', ttl)
  redis.call('SET', P .. 'user:' .. b, id, 'PX', ttl)
  redis.call('ZADD', OFFERS, offer.expires_at, id)
  -- Each side's view is encoded once: published, and returned to the joiner as is.
  offer.view_json = {cjson.encode(offer_view(offer, 1)), cjson.encode(offer_view(offer, 2))}
  tell_json(a, 'match.offer', offer.view_json[1])
  tell_json(b, 'match.offer', offer.view_json[2])
  return offer
end

local function queue_of(p)
  return P .. 'queue:' .. string.sub(p.gender, 1, 1) .. string.sub(p.pref, 1, 1)
end

-- The parts of the queue holding people whose gender `me` wants and who want `me`'s gender.
local function queues_for(me)
  local genders = me.pref == 'any' and {'m', 'f'} or {string.sub(me.pref, 1, 1)}
  local mine, found = string.sub(me.gender, 1, 1), {}
  for _, g in ipairs(genders) do
    found[#found + 1] = P .. 'queue:' .. g .. mine
    found[#found + 1] = P .. 'queue:' .. g .. 'a'
  end
  return found
end

-- Take the user out of the queue (`me`: their profile, when the caller has it).
local function dequeue(uid, me)
  local p = me or profile(uid)
  if p then redis.call('ZREM', queue_of(p), queue_member(uid, p)) end
end

local function forget(uid)
  dequeue(uid)
  redis.call('HDEL', SEEKERS, uid)
  redis.call('HDEL', CARDS, uid)
end

-- The oldest fitting member of one part of the queue (within its first SCAN), or nil. Cheap
-- checks first: most fail on age; only a fit is checked for blocks and presence.
local function first_fit(uid, me, queue)
  for start = 0, SCAN - 1, CHUNK do
    local chunk = redis.call('ZRANGE', queue, start, math.min(start + CHUNK, SCAN) - 1)
    for _, member in ipairs(chunk) do
      local c = member_uid(member)
      if c ~= uid and not verdict(me, member) and not avoided(uid, c) then
        if online(c) then return member end
        redis.call('ZREM', queue, member)  -- a ghost: its connection died without cleaning up
        redis.call('HDEL', SEEKERS, c)
        redis.call('HDEL', CARDS, c)
      end
    end
    if #chunk < CHUNK then return nil end
  end
  return nil
end

-- Offer `uid` the oldest compatible waiting user, else queue them with `score` (their place:
-- the time they first joined).
local function place(uid, score, me)
  me = me or profile(uid)
  if not (me and online(uid)) then
    dequeue(uid, me)
    return nil
  end
  local best, best_score, best_queue
  for _, queue in ipairs(queues_for(me)) do
    local member = first_fit(uid, me, queue)
    local member_score = member and tonumber(redis.call('ZSCORE', queue, member))
    if member and (not best or member_score < best_score) then
      best, best_score, best_queue = member, member_score, queue
    end
  end
  local mine = queue_member(uid, me)
  if not best then
    redis.call('ZADD', queue_of(me), score, mine)
    return nil
  end
  redis.call('ZREM', best_queue, best)
  redis.call('ZREM', queue_of(me), mine)
  local c = member_uid(best)
  return make_offer(c, best_score, profile(c), uid, score, me)
end

local function queued_since(uid, me)
  local p = me or profile(uid)
  return p and redis.call('ZSCORE', queue_of(p), queue_member(uid, p))
end

-- The offer ends for `reason` (side `by` ended it); sides in `requeue` go back to their place.
local function close_offer(offer, reason, requeue, by)
  end_offer(offer)
  for s = 1, 2 do
    local uid = offer['user' .. s]
    tell(uid, 'match.ended', {match_id = offer.match_id, reason = reason, requeued = requeue[s] or false,
                              by_you = by == s})
  end
  for s = 1, 2 do
    if requeue[s] then place(offer['user' .. s], offer['user' .. s .. '_queued_at']) end
  end
end

local function accepted(offer, s)
  return offer['user' .. s .. '_response'] == 'accept'
end

-- The one who was passed over goes back to their place in line, answered or not: they came to
-- meet someone and should not find themselves idle.
local function decline(offer, s)
  offer.status = 'rejected'
  avoid_each_other(offer.user1, offer.user2)
  close_offer(offer, 'declined', {[3 - s] = true}, s)
end

local function expire(offer)
  offer.status = 'expired'
  close_offer(offer, 'expired', {accepted(offer, 1), accepted(offer, 2)})
end

local function result(status, extra)
  extra = extra or {}
  extra.status = status
  return cjson.encode(extra)
end

local function current_offer(uid)
  local id = redis.call('GET', P .. 'user:' .. uid)
  return id and load_offer(id)
end

local function state(uid)
  local offer = current_offer(uid)
  if offer then return result('offered', {view = offer_view(offer, side(offer, uid))}) end
  local since = queued_since(uid)
  if since then return result('queued', {since = tonumber(since)}) end
  return result('idle')
end

local commands = {}

-- ARGV 7..: uid, token, name, age, gender, age_min, age_max, preferred gender, radius, card (JSON),
-- avoid ids...
function commands.connect()
  local uid, token = ARGV[7], ARGV[8]
  local old = redis.call('GET', P .. 'online:' .. uid)
  redis.call('SET', P .. 'online:' .. uid, token, 'PX', PRESENCE_MS)
  redis.call('ZADD', ONLINE, now, uid)
  local seeker = {name = ARGV[9], age = tonumber(ARGV[10]), gender = ARGV[11], amin = tonumber(ARGV[12]),
                  amax = tonumber(ARGV[13]), pref = ARGV[14], radius = tonumber(ARGV[15])}
  local before = profile(uid)
  local since = before and queued_since(uid, before)
  if before then seeker.lat, seeker.lon = before.lat, before.lon end
  redis.call('HSET', SEEKERS, uid, pack(seeker))
  redis.call('HSET', CARDS, uid, ARGV[16])
  if since then  -- waiting already: keep the place, with the settings as they are now
    dequeue(uid, before)
    local now_profile = unpack_profile(pack(seeker))
    redis.call('ZADD', queue_of(now_profile), since, queue_member(uid, now_profile))
  end
  if #ARGV > 16 then
    redis.call('SADD', P .. 'avoid:' .. uid, unpack(ARGV, 17))
    redis.call('EXPIRE', P .. 'avoid:' .. uid, AVOID_TTL_S)
  end
  if old and old ~= token then tell(uid, 'match.replaced', {token = token}) end
  return state(uid)
end

-- ARGV 7..: uid, token. Only the newest connection of a user keeps the presence alive.
function commands.heartbeat()
  local uid, token = ARGV[7], ARGV[8]
  if redis.call('GET', P .. 'online:' .. uid) ~= token then return result('replaced') end
  redis.call('PEXPIRE', P .. 'online:' .. uid, PRESENCE_MS)
  redis.call('ZADD', ONLINE, now, uid)
  return state(uid)
end

-- ARGV 7..: uid, lat, lon ('' when the user shares no location)
function commands.join()
  local uid, lat, lon = ARGV[7], ARGV[8], ARGV[9]
  local me = online(uid) and profile(uid)
  if not me then return result('offline') end
  if current_offer(uid) or queued_since(uid, me) then return state(uid) end
  me.lat, me.lon = tonumber(lat), tonumber(lon)
  redis.call('HSET', SEEKERS, uid, pack(me))
  local offer = place(uid, now, me)
  if offer then return '{"status":"offered","view":' .. offer.view_json[side(offer, uid)] .. '}' end
  return result('queued', {since = now})
end

-- ARGV 7..: uid. Leaving during an offer declines it.
function commands.leave()
  local uid = ARGV[7]
  dequeue(uid)
  local offer = current_offer(uid)
  if offer and offer.status == 'pending' then decline(offer, side(offer, uid)) end
  return result('idle')
end

-- ARGV 7..: uid, match id, 'accept' | 'decline'
function commands.respond()
  local uid, id, answer = ARGV[7], ARGV[8], ARGV[9]
  local offer = load_offer(id)
  local s = offer and side(offer, uid)
  if not s or redis.call('GET', P .. 'user:' .. uid) ~= id then return result('error', {code = 'not_found'}) end
  if offer.status ~= 'pending' then return result('error', {code = 'not_pending'}) end
  if now >= offer.expires_at then
    expire(offer)
    return result('error', {code = 'expired'})
  end
  if answer ~= 'accept' then
    decline(offer, s)
    return result('declined', {offer = offer})
  end
  offer['user' .. s .. '_response'], offer.updated_at = 'accept', now
  if accepted(offer, 3 - s) then
    offer.status = 'matched'  -- the caller writes the match to SQL, then calls `finish`
    save_offer(offer)
    return result('matched', {offer = offer})
  end
  save_offer(offer)
  tell(offer['user' .. (3 - s)], 'match.partner_accepted', {match_id = id})
  return result('accepted', {offer = offer, view = offer_view(offer, s)})
end

-- ARGV 7..: match id. Ends a matched offer once SQL has the match, or a match that failed.
function commands.finish()
  local offer = load_offer(ARGV[7])
  if offer then end_offer(offer) end
  return result('finished')
end

-- ARGV 7..: match id. Ends a pending offer whose deadline has passed (any caller, once).
function commands.expire()
  local offer = load_offer(ARGV[7])
  if offer and offer.status == 'pending' and now >= offer.expires_at then
    expire(offer)
    return result('expired')
  end
  return result('noop')
end

-- Leaving matching on disconnect (presence, queue place, an open offer), for the user's newest
-- connection only.
local function drop(uid)
  redis.call('DEL', P .. 'online:' .. uid)
  redis.call('ZREM', ONLINE, uid)
  forget(uid)
  local offer = current_offer(uid)
  if offer and offer.status == 'pending' then
    local s = side(offer, uid)
    offer.status = 'abandoned'
    close_offer(offer, 'partner_left', {[3 - s] = true}, s)
  end
end

-- ARGV 7..: uid, token
function commands.disconnect()
  local uid, token = ARGV[7], ARGV[8]
  if redis.call('GET', P .. 'online:' .. uid) ~= token then return result('replaced') end
  drop(uid)
  return result('gone')
end

-- ARGV 7..: a, b. They blocked each other or were matched: never offer them to each other.
function commands.avoid()
  avoid_each_other(ARGV[7], ARGV[8])
  return result('ok')
end

-- ARGV 7..: uid, census limit. Who is online, and why those who are do not fit.
function commands.census()
  local uid, limit = ARGV[7], tonumber(ARGV[8])
  local me = profile(uid)
  local counts = {online = 0, compatible = 0, not_for_me = 0, not_for_them = 0, too_far = 0, met = 0}
  counts.online = math.max(0, redis.call('ZCOUNT', ONLINE, now - PRESENCE_MS, '+inf') - 1)
  if not me then return cjson.encode(counts) end
  local ids = redis.call('ZRANGEBYSCORE', ONLINE, now - PRESENCE_MS, '+inf', 'LIMIT', 0, limit)
  local packed = #ids > 0 and redis.call('HMGET', SEEKERS, unpack(ids)) or {}
  for i, c in ipairs(ids) do
    if c ~= uid and packed[i] then
      local member = queue_member(c, unpack_profile(packed[i]))
      local why = verdict(me, member) or (avoided(uid, c) and 'met') or 'compatible'
      counts[why] = counts[why] + 1
    end
  end
  return cjson.encode(counts)
end

-- A step through a big queue part or hash: about `batch` entries from where the last sweep
-- stopped (its cursor is kept for an hour), so no sweep holds Redis for long, and every entry
-- is looked at within a few runs. A flat list: member, score (or field, value), ...
local function scan_step(key, command, batch)
  local cursor_key = P .. 'sweep:' .. key
  local reply = redis.call(command, key, redis.call('GET', cursor_key) or '0', 'COUNT', batch)
  redis.call('SET', cursor_key, reply[1], 'EX', 3600)
  return reply[2]
end

-- ARGV 7..: batch size. What crashed processes left: ghosts, stale presence, overdue offers.
function commands.sweep()
  local swept = {ghosts = 0, offers = 0}
  local batch = tonumber(ARGV[7])
  for _, queue in ipairs(QUEUES) do
    local found = scan_step(queue, 'ZSCAN', batch)
    for i = 1, #found, 2 do
      local uid = member_uid(found[i])
      if not online(uid) then
        redis.call('ZREM', queue, found[i])
        drop(uid)
        swept.ghosts = swept.ghosts + 1
      end
    end
  end
  local stale = redis.call('ZRANGEBYSCORE', ONLINE, '-inf', '(' .. (now - PRESENCE_MS), 'LIMIT', 0, batch)
  if #stale > 0 then redis.call('ZREM', ONLINE, unpack(stale)) end
  local seekers = scan_step(SEEKERS, 'HSCAN', batch)
  for i = 1, #seekers, 2 do
    if not online(seekers[i]) then drop(seekers[i]) end
  end
  for _, id in ipairs(redis.call('ZRANGE', OFFERS, 0, batch - 1)) do
    local offer = load_offer(id)
    if not offer then
      redis.call('ZREM', OFFERS, id)
    elseif offer.status == 'pending' and now >= offer.expires_at then
      expire(offer)
      swept.offers = swept.offers + 1
    elseif offer.status == 'pending' and not (online(offer.user1) and online(offer.user2)) then
      drop(online(offer.user1) and offer.user2 or offer.user1)
      swept.offers = swept.offers + 1
    end
  end
  return cjson.encode(swept)
end

return commands[cmd]()
