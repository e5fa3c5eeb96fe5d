-- The matching engine. Every change to presence, the queue and offers is one run of this
-- script, so Redis runs it alone: pairing needs no lock, and no reader ever sees half a change.
-- Keys are derived from ARGV (one Redis server, not a cluster); services/matching.py lists them.
-- ARGV: command, now (ms), offer window (ms), grace (ms), presence TTL (ms), scan limit, args...
-- Events for users are published from here on `bb:seeker:<id>` in the hub's message format.

local P = 'bb:match:'
local QUEUE, ONLINE, OFFERS = P .. 'queue', P .. 'online', P .. 'offers'
local AVOID_TTL_S = 86400
local cmd, now = ARGV[1], tonumber(ARGV[2])
local OFFER_MS, GRACE_MS, PRESENCE_MS, SCAN = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local function tell(uid, type_, data)
  redis.call('PUBLISH', 'bb:seeker:' .. uid, '\n' .. cjson.encode({type = type_, data = data}))
end

local function profile(uid)
  local f = redis.call('HMGET', P .. 'seeker:' .. uid, 'age', 'gender', 'amin', 'amax', 'pref', 'radius', 'name', 'lat', 'lon')
  if not f[1] then return nil end
  return {age = tonumber(f[1]), gender = f[2], amin = tonumber(f[3]), amax = tonumber(f[4]), pref = f[5],
          radius = tonumber(f[6]), name = f[7], lat = tonumber(f[8]), lon = tonumber(f[9])}
end

-- a's preferences accept b
local function accepts(a, b)
  return b.age >= a.amin and b.age <= a.amax and (a.pref == 'any' or a.pref == b.gender)
end

local function distance_km(a, b)
  local r = math.pi / 180
  local dlat, dlon = (b.lat - a.lat) * r, (b.lon - a.lon) * r
  local h = math.sin(dlat / 2) ^ 2 + math.cos(a.lat * r) * math.cos(b.lat * r) * math.sin(dlon / 2) ^ 2
  return 2 * 6371 * math.asin(math.min(1, math.sqrt(h)))
end

-- Distance counts only when both shared a location; then it must be within both radii.
local function near(a, b)
  if not (a.lat and a.lon and b.lat and b.lon) then return true end
  return distance_km(a, b) <= math.min(a.radius, b.radius)
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
  return {match_id = offer.match_id, expires_at = offer.expires_at / 1000,
          partner = {id = tonumber(offer['user' .. o]), display_name = p.name, age = p.age, gender = p.gender},
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
                 user1_profile = {name = pa.name, age = pa.age, gender = pa.gender},
                 user2_profile = {name = pb.name, age = pb.age, gender = pb.gender}}
  local ttl = OFFER_MS + GRACE_MS
  redis.call('SET', P .. 'offer:' .. id, cjson.encode(offer), 'PX', ttl)
  redis.call('SET', P .. 'user:' .. a, id, 'PX', ttl)
  redis.call('SET', P .. 'user:' .. b, id, 'PX', ttl)
  redis.call('ZADD', OFFERS, offer.expires_at, id)
  tell(a, 'match.offer', offer_view(offer, 1))
  tell(b, 'match.offer', offer_view(offer, 2))
  return offer
end

-- Offer `uid` the oldest compatible waiting user, else queue them with `score` (their place).
local function place(uid, score)
  local me = online(uid) and profile(uid)
  if not me then
    redis.call('ZREM', QUEUE, uid)
    return nil
  end
  local waiting = redis.call('ZRANGE', QUEUE, 0, SCAN - 1, 'WITHSCORES')
  for i = 1, #waiting, 2 do
    local c = waiting[i]
    if c ~= uid then
      local them = online(c) and profile(c)
      if not them then
        redis.call('ZREM', QUEUE, c)  -- a ghost: its connection died without cleaning up
      elseif not avoided(uid, c) and accepts(me, them) and accepts(them, me) and near(me, them) then
        redis.call('ZREM', QUEUE, uid, c)
        return make_offer(c, tonumber(waiting[i + 1]), them, uid, score, me)
      end
    end
  end
  redis.call('ZADD', QUEUE, score, uid)
  return nil
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

local function decline(offer, s)
  offer.status = 'rejected'
  avoid_each_other(offer.user1, offer.user2)
  close_offer(offer, 'declined', {[3 - s] = accepted(offer, 3 - s)}, s)
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
  if offer then return result('offered', {offer = offer, view = offer_view(offer, side(offer, uid))}) end
  local since = redis.call('ZSCORE', QUEUE, uid)
  if since then return result('queued', {since = tonumber(since)}) end
  return result('idle')
end

local commands = {}

-- ARGV 7..: uid, token, name, age, gender, age_min, age_max, preferred gender, radius, avoid ids...
function commands.connect()
  local uid, token = ARGV[7], ARGV[8]
  local old = redis.call('GET', P .. 'online:' .. uid)
  redis.call('SET', P .. 'online:' .. uid, token, 'PX', PRESENCE_MS)
  redis.call('ZADD', ONLINE, now, uid)
  local key = P .. 'seeker:' .. uid
  redis.call('HSET', key, 'name', ARGV[9], 'age', ARGV[10], 'gender', ARGV[11], 'amin', ARGV[12],
             'amax', ARGV[13], 'pref', ARGV[14], 'radius', ARGV[15])
  redis.call('PEXPIRE', key, PRESENCE_MS)
  if #ARGV > 15 then
    redis.call('SADD', P .. 'avoid:' .. uid, unpack(ARGV, 16))
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
  redis.call('PEXPIRE', P .. 'seeker:' .. uid, PRESENCE_MS)
  redis.call('ZADD', ONLINE, now, uid)
  return state(uid)
end

-- ARGV 7..: uid, lat, lon ('' when the user shares no location)
function commands.join()
  local uid, lat, lon = ARGV[7], ARGV[8], ARGV[9]
  if not (online(uid) and redis.call('EXISTS', P .. 'seeker:' .. uid) == 1) then return result('offline') end
  if current_offer(uid) or redis.call('ZSCORE', QUEUE, uid) then return state(uid) end
  if lat ~= '' and lon ~= '' then
    redis.call('HSET', P .. 'seeker:' .. uid, 'lat', lat, 'lon', lon)
  else
    redis.call('HDEL', P .. 'seeker:' .. uid, 'lat', 'lon')
  end
  place(uid, now)
  return state(uid)
end

-- ARGV 7..: uid. Leaving during an offer declines it.
function commands.leave()
  local uid = ARGV[7]
  redis.call('ZREM', QUEUE, uid)
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

-- The spec's cleanup on disconnect, for the user's newest connection only.
local function drop(uid)
  redis.call('DEL', P .. 'online:' .. uid, P .. 'seeker:' .. uid)
  redis.call('ZREM', ONLINE, uid)
  redis.call('ZREM', QUEUE, uid)
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
  for _, c in ipairs(redis.call('ZRANGEBYSCORE', ONLINE, now - PRESENCE_MS, '+inf', 'LIMIT', 0, limit)) do
    local them = c ~= uid and profile(c)
    if them then
      if not accepts(me, them) then counts.not_for_me = counts.not_for_me + 1
      elseif not accepts(them, me) then counts.not_for_them = counts.not_for_them + 1
      elseif not near(me, them) then counts.too_far = counts.too_far + 1
      elseif avoided(uid, c) then counts.met = counts.met + 1
      else counts.compatible = counts.compatible + 1 end
    end
  end
  return cjson.encode(counts)
end

-- ARGV 7..: batch size. What crashed processes left: ghosts, stale presence, overdue offers.
function commands.sweep()
  local swept = {ghosts = 0, offers = 0}
  for _, uid in ipairs(redis.call('ZRANGE', QUEUE, 0, -1)) do
    if not online(uid) then
      drop(uid)
      swept.ghosts = swept.ghosts + 1
    end
  end
  redis.call('ZREMRANGEBYSCORE', ONLINE, '-inf', '(' .. (now - PRESENCE_MS))
  for _, id in ipairs(redis.call('ZRANGE', OFFERS, 0, tonumber(ARGV[7]) - 1)) do
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
