package cluster

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/aigateway/ai-gateway/gateway"
)

// Limiter is gateway.Limiter shared through Redis: the sliding windows of gateway.MemoryLimiter
// (each window counted in 60 buckets, the partly covered oldest bucket counted in full, so no
// window ever admits more than its limit), one Redis hash per client and window, decided and
// counted by one Lua script. While Redis is unreachable the instance's own MemoryLimiter
// decides.
type Limiter struct {
	s     *Shared
	local *gateway.MemoryLimiter
}

var _ gateway.Limiter = (*Limiter)(nil)

// Limiter returns the shared rate limiter.
func (s *Shared) Limiter() *Limiter { return &Limiter{s: s, local: gateway.NewMemoryLimiter()} }

// limiterLib holds the helpers of both limiter scripts. A window's hash has one field per
// bucket (the bucket's number: unix ms / width) and "o", the instance that restored it from the
// request log ("-" when requests were counted first).
const limiterLib = `
local function load(key, now, win)
  local width = math.ceil(win / 60)
  local b = math.floor(now / width)
  local h = redis.call('HGETALL', key)
  local w = {buckets = {}, sum = 0, last = b, width = width, win = win}
  local stale = {}
  for j = 1, #h, 2 do
    local k = tonumber(h[j])
    if k then
      if k < b - 60 then
        stale[#stale + 1] = h[j]
      else
        local c = tonumber(h[j + 1])
        w.buckets[#w.buckets + 1] = {k, c}
        w.sum = w.sum + c
        if k > w.last then w.last = k end
      end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  table.sort(w.buckets, function(x, y) return x[1] < y[1] end)
  return w
end

-- until: ms from now until the window counts at most keep requests.
local function untilKeep(w, now, keep)
  local drop = w.sum - keep
  if drop <= 0 then return 0 end
  for _, bc in ipairs(w.buckets) do
    drop = drop - bc[2]
    if drop <= 0 then return (bc[1] + 1) * w.width + w.win - now end
  end
  return w.win
end
`

// limiterDecide: KEYS are the windows' hashes; ARGV[1] is now (unix ms), ARGV[2] "1" to count an
// admitted request, then each window's limit and length (ms). It returns allowed (1/0), the
// refusing window's index (-1), the retry wait (ms), then each window's count and reset (ms).
var limiterDecide = redis.NewScript(limiterLib + `
local now = tonumber(ARGV[1])
local out = {1, -1, 0}
local ws = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i + 1])
  local w = load(KEYS[i], now, tonumber(ARGV[2 * i + 2]))
  ws[i] = w
  if out[1] == 1 and w.sum + 1 > limit then
    out[1], out[2], out[3] = 0, i - 1, untilKeep(w, now, limit - 1)
  end
end
for i = 1, #KEYS do
  local w = ws[i]
  if out[1] == 1 and ARGV[2] == '1' then
    redis.call('HINCRBY', KEYS[i], tostring(w.last), 1)
    redis.call('HSETNX', KEYS[i], 'o', '-')
    redis.call('PEXPIRE', KEYS[i], w.win + 2 * w.width)
    local n = #w.buckets
    if n > 0 and w.buckets[n][1] == w.last then
      w.buckets[n][2] = w.buckets[n][2] + 1
    else
      w.buckets[n + 1] = {w.last, 1}
    end
    w.sum = w.sum + 1
  end
  out[#out + 1] = w.sum
  out[#out + 1] = untilKeep(w, now, 0)
end
return out
`)

// limiterRestore: KEYS are the windows' hashes; ARGV[1] is the time (unix ms), ARGV[2] the
// count, ARGV[3] this instance, then each window's length (ms). A window another instance
// already counts in is left alone: its count is newer than the request log.
var limiterRestore = redis.NewScript(limiterLib + `
local at = tonumber(ARGV[1])
for i = 1, #KEYS do
  local o = redis.call('HGET', KEYS[i], 'o')
  if not o or o == ARGV[3] then
    local win = tonumber(ARGV[3 + i])
    local w = load(KEYS[i], at, win)
    redis.call('HSET', KEYS[i], 'o', ARGV[3])
    redis.call('HINCRBY', KEYS[i], tostring(w.last), tonumber(ARGV[2]))
    redis.call('PEXPIRE', KEYS[i], win + 2 * w.width)
  end
end
return 0
`)

// windows returns the hash keys and script arguments of the rates that limit (Limit > 0), and
// where each came from in rates.
func (l *Limiter) windows(key string, rates []gateway.Rate) (keys []string, args []any, index []int) {
	for i, r := range rates {
		if r.Limit <= 0 {
			continue
		}
		win := max(r.Window.Milliseconds(), 1)
		keys = append(keys, l.s.key("rl", key, strconv.FormatInt(win, 10)))
		args = append(args, r.Limit, win)
		index = append(index, i)
	}
	return keys, args, index
}

// Allow implements gateway.Limiter.
func (l *Limiter) Allow(key string, rates []gateway.Rate, now time.Time) gateway.RateResult {
	return l.decide(key, rates, now, true)
}

// Status implements gateway.Limiter.
func (l *Limiter) Status(key string, rates []gateway.Rate, now time.Time) gateway.RateResult {
	return l.decide(key, rates, now, false)
}

func (l *Limiter) decide(key string, rates []gateway.Rate, now time.Time, count bool) gateway.RateResult {
	keys, wargs, index := l.windows(key, rates)
	if len(keys) == 0 {
		return gateway.RateResult{Allowed: true, Refused: -1}
	}
	flag := "0"
	if count {
		flag = "1"
	}
	args := append([]any{now.UnixMilli(), flag}, wargs...)
	var out []int64
	if !l.s.try("limiter", func(ctx context.Context) error {
		var err error
		out, err = limiterDecide.Run(ctx, l.s.rdb, keys, args...).Int64Slice()
		return err
	}) || len(out) != 3+2*len(keys) {
		if count {
			return l.local.Allow(key, rates, now)
		}
		return l.local.Status(key, rates, now)
	}
	res := gateway.RateResult{Allowed: out[0] == 1, Refused: -1}
	if !res.Allowed {
		res.Refused = index[out[1]]
		res.RetryAfter = time.Duration(out[2]) * time.Millisecond
	}
	for j, i := range index {
		limit := rates[i].Limit
		remaining := max(limit-out[3+2*j], 0)
		if j == 0 || remaining < res.Remaining {
			res.Limit, res.Remaining = limit, remaining
			res.Reset = time.Duration(out[4+2*j]) * time.Millisecond
		}
	}
	return res
}

// Forget implements gateway.Limiter.
func (l *Limiter) Forget(key string) {
	l.local.Forget(key)
	l.s.forget(l.s.key("rl", key, "*"))
}

// Restore implements gateway.Limiter. Only the first instance to restore a client's windows
// counts the request log into them; an instance that starts while others run finds the windows
// already counting and leaves them be.
func (l *Limiter) Restore(key string, rates []gateway.Rate, at time.Time, n int64) {
	l.local.Restore(key, rates, at, n)
	keys, wargs, _ := l.windows(key, rates)
	if len(keys) == 0 || n <= 0 {
		return
	}
	args := []any{at.UnixMilli(), n, l.s.instance}
	for i := 1; i < len(wargs); i += 2 {
		args = append(args, wargs[i])
	}
	l.s.try("limiter restore", func(ctx context.Context) error {
		return limiterRestore.Run(ctx, l.s.rdb, keys, args...).Err()
	})
}
