"""The Lua scripts of the Redis limiter backend: ``BucketState``'s arithmetic, ported line for
line, run atomically by Redis on its own clock (``TIME``).

KEYS: 1 state hash, 2 windows hash, 3 leases (sorted set: lease id -> expiry), 4 workers
(sorted set: worker id -> expiry); all share one hash tag. ARGV: 1 the time ('' = Redis
``TIME``; the tests pass times to compare with ``BucketState``), 2 the config (JSON), 3 the idle
TTL of every key (ms), 4 this worker's id, 5 the worker TTL (s); then each script's own.

Numbers cross the boundary as strings (``%.17g``): Redis truncates Lua numbers to integers.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "OBSERVE", "RELEASE", "RENEW"]

_PRELUDE = r"""
local EPS, MIN_HORIZON, BURST_TIME, PROBE_WAIT, UNPACED = 1e-9, 0.05, 0.05, 0.05, 10.0
local BOUNDARY_TEST = 1.0
local INF = math.huge
local function num(s)
  if s == nil or s == false or s == '' or s == 'none' then return nil end
  return tonumber(s)
end
local function fmt(x)
  if x == nil then return 'none' end
  if x == INF or x == -INF then return '' end
  return string.format('%.17g', x)
end
local now
if ARGV[1] ~= '' then now = tonumber(ARGV[1]) else
  local t = redis.call('TIME'); now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local cfg = cjson.decode(ARGV[2])
local idle_ms, worker, worker_ttl = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])

local S = {}
local raw = redis.call('HGETALL', KEYS[1])
for i = 1, #raw, 2 do S[raw[i]] = raw[i + 1] end
local st = {
  tat = num(S.tat) or 0, last_grant = num(S.lg) or -INF, gate = num(S.gate) or 0,
  server_rate = num(S.sr), server_burst = num(S.sb) or cfg.burst, binding = S.bind or '',
  valid_until = num(S.vu) or INF, cut_rate = num(S.cr), cut_at = num(S.ca) or 0,
  probing = S.probing ~= '0', fresh = S.fresh == '1', n = tonumber(S.n or '0'),
  grants = tonumber(S.g or '0'), room = num(S.room) or INF, room_g = tonumber(S.rg or '0'),
  boundary = num(S.bd),
  peak = tonumber(S.pk or '0'), boundary_until = num(S.bu) or 0,
}
if S.rate == nil then st.rate = cfg.initial_rate else st.rate = num(S.rate) end
-- A clock jump (a failover) or an absurd stored value never holds anyone past max_wait.
if cfg.max_wait ~= nil then
  local limit = now + cfg.max_wait
  if st.gate > limit then st.gate = limit end
  if st.tat > limit then st.tat = limit end
end

-- Times in a window's JSON go as strings: cjson keeps 14 digits, too few for epoch seconds.
local EXACT = {'reset_at', 'phase'}
local windows, order = {}, {}
local wraw = redis.call('HGETALL', KEYS[2])
for i = 1, #wraw, 2 do
  local w = cjson.decode(wraw[i + 1]); w.field = wraw[i]
  for _, k in ipairs(EXACT) do if type(w[k]) == 'string' then w[k] = tonumber(w[k]) end end
  windows[w.field] = w; order[#order + 1] = w
end
table.sort(order, function(a, b) return a.n < b.n end)

redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[4], now + worker_ttl, worker)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
local function in_flight() return redis.call('ZCARD', KEYS[3]) end

local function rate()
  if st.server_rate ~= nil then return st.server_rate end
  local initial = cfg.initial_rate
  if st.cut_rate == nil then return initial end
  local target = initial or st.cut_rate * 4
  local climbed = st.cut_rate + (now - st.cut_at) * target / cfg.recovery
  if climbed >= target then st.cut_rate = nil; return initial end
  return climbed
end

local function close_gate(u)
  if u > st.gate then st.gate = u end
  if st.tat < st.gate then st.tat = st.gate end
end

local function burst()
  if st.server_rate ~= nil then return st.server_burst end
  if st.cut_rate ~= nil then return 1 end
  return cfg.burst
end

-- A window's reset has passed: full again until told otherwise; a clock-estimated window whose
-- phase is unconfirmed lets one request test the boundary first (BucketState._roll).
local function roll(w)
  if w.reset_at == nil or w.reset_at > now or w.limit == nil or w.window == nil then return end
  local periods = math.floor((now - w.reset_at) / w.window) + 1
  w.reset_at = w.reset_at + periods * w.window
  w.remaining = w.limit
  if w.phase ~= nil then
    w.rolled, w.g0, w.carry, w.late = true, st.grants, in_flight(), 0
    st.peak = in_flight()
    if not w.confirmed and w.answered ~= false then
      st.boundary = st.grants; st.boundary_until = now + BOUNDARY_TEST
    end
    w.answered = false
  end
end

local function recompute(others)
  local best, binding, vu, cap, room = INF, nil, INF, INF, INF
  for _, w in ipairs(order) do
    local live = not w.dead
    if live and w.reset_at ~= nil and w.reset_at <= now then
      if w.limit == nil or w.window == nil then
        w.dead = true; live = false
      else
        roll(w)
      end
    end
    if live then
      if w.remaining == nil then
        if w.limit ~= nil and w.window ~= nil and w.window ~= 0 then
          local r = w.limit / w.window
          if r < best then best, binding = r, w end
        end
      else
        if w.remaining < room then room = w.remaining end
        local usable = w.remaining - others - cfg.reserve
        local horizon = nil
        if w.reset_at ~= nil then
          if w.reset_at < vu then vu = w.reset_at end
          horizon = math.max(w.reset_at - now, MIN_HORIZON)
        elseif w.window ~= nil and w.window ~= 0 then
          horizon = w.window
        end
        if horizon ~= nil then
          if usable <= 0 then
            close_gate(w.reset_at or (now + horizon))
            best, binding = 0, w
          else
            if usable < cap then cap = usable end
            local r = (usable + 1) / horizon  -- u + 1 intervals: the last before the reset
            if r < best then best, binding = r, w end
          end
        end
      end
    end
  end
  st.valid_until = vu
  st.room = room - others; st.room_g = st.grants  -- (see BucketState._room)
  if binding == nil then st.binding = '' else st.binding = binding.field end
  if binding == nil then st.server_rate = nil
  elseif best > 0 then st.server_rate = best; st.fresh = true end
  if st.server_rate ~= nil then
    local wanted = math.max(cfg.burst, st.server_rate * BURST_TIME)
    st.server_burst = math.max(1, math.floor(math.min(wanted, cap)))
  end
end

local function set_rate(r)
  local old = st.rate
  if r == nil or old == nil then st.tat = now
  elseif st.tat > now then
    local tat = now + (st.tat - now) * old / r
    if st.server_rate ~= nil then tat = math.min(tat, math.max(now, st.last_grant + 1.0 / r)) end
    st.tat = math.max(tat, st.gate)
  end
  st.rate = r; st.fresh = false
end

local function view()
  local w = windows[st.binding]
  local v = {rate = rate(), blocked_for = math.max(st.gate - now, 0), in_flight = in_flight(),
             workers = redis.call('ZCARD', KEYS[4])}
  if w ~= nil and not w.dead then
    v.source, v.policy, v.window, v.limit, v.remaining = w.source, w.policy, w.window, w.limit,
      w.remaining
    if w.reset_at ~= nil then v.reset_after = math.max(w.reset_at - now, 0) end
  end
  return cjson.encode(v)
end

local function save()
  redis.call('HSET', KEYS[1], 'tat', fmt(st.tat), 'lg', fmt(st.last_grant), 'gate',
    fmt(st.gate), 'sr', fmt(st.server_rate), 'sb', fmt(st.server_burst), 'bind', st.binding,
    'vu', fmt(st.valid_until), 'cr', fmt(st.cut_rate), 'ca', fmt(st.cut_at), 'probing',
    st.probing and '1' or '0', 'fresh', st.fresh and '1' or '0', 'n', tostring(st.n),
    'rate', fmt(st.rate), 'g', tostring(st.grants), 'room', fmt(st.room), 'rg', tostring(st.room_g), 'bd',
    fmt(st.boundary), 'pk', tostring(st.peak), 'bu',
    fmt(st.boundary_until))
  for _, w in ipairs(order) do
    if w.dead then redis.call('HDEL', KEYS[2], w.field) else
      local out = {}
      for k, v in pairs(w) do out[k] = v end
      for _, k in ipairs(EXACT) do if type(out[k]) == 'number' then out[k] = fmt(out[k]) end end
      out.field = nil
      redis.call('HSET', KEYS[2], w.field, cjson.encode(out))
    end
  end
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], idle_ms) end
end
"""

ACQUIRE = (
    _PRELUDE
    + r"""
-- ARGV 6: the lease id to take, 7: the lease TTL (s)
local function try_acquire(flying)
  if now < st.gate then return st.gate - now end
  if st.probing and flying > 0 then return PROBE_WAIT end
  if now >= st.valid_until then
    recompute(math.max(flying, 0))
    if now < st.gate then return st.gate - now end
  end
  if flying > 0 and (st.room - (st.grants - st.room_g) - cfg.reserve < 1
      or (st.boundary ~= nil and st.grants > st.boundary and now < st.boundary_until)) then
    return math.min(PROBE_WAIT, math.max(st.valid_until - now, EPS))
  end
  local r = rate()
  if r ~= st.rate or (st.server_rate ~= nil and st.fresh) then set_rate(r) end
  if r == nil then st.grants = st.grants + 1; st.peak = math.max(st.peak, flying + 1); return 0 end
  local interval = 1.0 / r
  local tat = st.tat
  if tat <= now then tat = now end
  local allowed = tat - (burst() - 1) * interval
  if allowed > now + EPS then return allowed - now end
  st.tat = tat + interval; st.last_grant = now; st.grants = st.grants + 1
  st.peak = math.max(st.peak, flying + 1)
  return 0
end
local wait = try_acquire(in_flight())
if wait <= 0 then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[7]), ARGV[6]) end
save()
return {string.format('%.17g', wait), view()}
"""
)

OBSERVE = (
    _PRELUDE
    + r"""
-- ARGV 6: the snapshot (JSON: status, retry_after, obs = [{source, policy, window, limit,
-- remaining, reset_after}])
local snap = cjson.decode(ARGV[6])
local status, obs = snap.status, snap.obs
st.probing = false
local others = math.max(in_flight() - 1, 0)
if snap.retry_after ~= nil and (status == 429 or status == 503) then
  local ra = snap.retry_after
  if cfg.max_wait ~= nil and ra > cfg.max_wait then ra = cfg.max_wait end
  close_gate(now + ra)
end
-- A window with no reset (Kong's), its phase checked against the answer (BucketState.
-- _phase_checked): false when the answer was used up (set aside as late, or re-phased).
local function rephase(w, o, period, confirmed)
  w.phase = math.fmod(now, period); w.confirmed = confirmed; w.rolled = false
  st.boundary = nil; st.peak = in_flight()
  w.limit, w.remaining, w.seen = o.limit, o.remaining, o.remaining
  w.reset_at = now + period
end
local function phase_checked(w, o, others, period)
  if o.remaining == nil or w.seen == nil or o.limit ~= w.limit or o.limit == nil then
    return true
  end
  local margin = math.max(others, st.peak - 1)
  if o.remaining > w.seen + margin then
    rephase(w, o, period, true); return false
  end
  if not w.rolled then return true end
  if o.remaining >= o.limit - (st.grants - w.g0) - w.carry then
    w.rolled, w.confirmed = false, true; st.boundary = nil
    return true
  end
  if w.late < w.carry then w.late = w.late + 1; return false end
  rephase(w, o, period, false)
  return false
end
local function remember_clocked(field, known, o, others, period)
  if known == nil or known.dead or known.phase == nil then
    if known == nil then
      st.n = st.n + 1
      known = {field = field, n = st.n}
      windows[field] = known; order[#order + 1] = known
    elseif known.dead then  -- as BucketState, which forgot it and adds it anew
      st.n = st.n + 1; known.n = st.n
    end
    known.dead = nil
    known.source, known.policy, known.window = o.source, o.policy, o.window
    known.limit, known.remaining, known.seen = o.limit, o.remaining, o.remaining
    known.reset_at = now + period - math.fmod(now, period)  -- first guess: aligned
    known.phase, known.confirmed, known.rolled = 0, false, false
    known.g0, known.carry, known.late, known.answered = 0, 0, 0, true
    return
  end
  known.dead = nil
  roll(known)
  known.answered = true
  local fresh = known.rolled
  if not phase_checked(known, o, others, period) then return end
  local remaining = o.remaining
  if not fresh and remaining ~= nil and known.seen ~= nil and known.seen < remaining then
    remaining = known.seen  -- a late answer never raises the count
  end
  known.limit, known.remaining, known.seen = o.limit, remaining, remaining
  known.reset_at = now + period - math.fmod(now - known.phase, period)
end
for _, o in ipairs(obs) do
  local ra = o.reset_after
  local field = o.source .. '|' .. (o.policy and ('=' .. o.policy) or '~') .. '|'
    .. (o.window and string.format('%.17g', o.window) or '~')
  local known = windows[field]
  local clocked = ra == nil and o.source == 'x-ratelimit-window' and o.window ~= nil
    and o.window ~= 0
  local reset_at = nil
  if ra ~= nil then reset_at = now + ra end
  if clocked then
    remember_clocked(field, known, o, others, o.window)
  elseif known == nil then
    st.n = st.n + 1
    known = {field = field, source = o.source, policy = o.policy, window = o.window, n = st.n,
             limit = o.limit, remaining = o.remaining, reset_at = reset_at}
    windows[field] = known; order[#order + 1] = known
  else
    -- Answers from many processes arrive out of order: the newest period wins, and within one
    -- period a late answer (more remaining than known) never raises the budget.
    local tol = 1
    if o.window ~= nil and o.window > 0 then tol = o.window / 2 end
    local stale, raise = false, false
    if known.reset_at ~= nil and reset_at ~= nil and not known.dead then
      if reset_at < known.reset_at - tol then stale = true
      elseif math.abs(reset_at - known.reset_at) < tol and known.remaining ~= nil
        and o.remaining ~= nil and o.remaining > known.remaining and o.limit == known.limit then
        raise = true
      end
    end
    if not stale then
      known.dead = nil
      known.limit, known.reset_at = o.limit, reset_at
      if not raise then known.remaining = o.remaining end
    end
  end
end
if status == 429 and #obs == 0 then
  local cur = rate()
  if cur == nil then cur = UNPACED end
  st.cut_rate = math.max(cfg.min_rate, cur / 2); st.cut_at = now
end
if #obs > 0 or now >= st.valid_until then recompute(others) end
-- ARGV 7 (optional): the answered request's lease, dropped here: learned and released at once
if ARGV[7] ~= nil and ARGV[7] ~= '' then redis.call('ZREM', KEYS[3], ARGV[7]) end
save()
return view()
"""
)

RELEASE = (
    _PRELUDE
    + r"""
-- ARGV 6: the lease id to drop
redis.call('ZREM', KEYS[3], ARGV[6])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], idle_ms) end
return view()
"""
)

RENEW = (
    _PRELUDE
    + r"""
-- ARGV 6: the lease TTL (s); 7...: the lease ids still in flight (kept only if still there)
local ttl = tonumber(ARGV[6])
for i = 7, #ARGV do redis.call('ZADD', KEYS[3], 'XX', now + ttl, ARGV[i]) end
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], idle_ms) end
return view()
"""
)
