import type { Driver } from 'unstorage'
import { getRedisEntryKey } from '../storage/redis-key'
import type { GcraMode, GcraStep } from './gcra'
import { RateLimitStoreError } from './store-error'

// Redis: one atomic script per limiter call, on the key unstorage's own get/set use.

/** The Lua `mode` argument of each limiter call. */
export const GCRA_MODE_ARG: Record<GcraMode, string> = { consume: 'c', peek: 'p', refund: 'r' }

/** The Lua `now` argument: the injected time, or -1 for the Redis server's clock. */
export function nowArg(now: number | undefined): string {
  return String(now === undefined ? -1 : Math.floor(now))
}

/** The GCRA step as one atomic script (mirrors `stepGcra` and `refundGcra` in gcra.ts). */
// KEYS[1] entry key; ARGV limit, windowMs, cost, now (negative: use the server clock), mode
// (`c` consume, `p` peek: decide without writing, `r` refund: give `cost` units back).
export const GCRA_LUA = `
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local mode = ARGV[5]
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local capacity = windowMs * limit
local debt = 0
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, e = pcall(cjson.decode, raw)
  if ok and type(e) == 'table' and type(e.at) == 'number' and type(e.debt) == 'number'
    and type(e.limit) == 'number' and e.limit >= 1 and e.debt >= 0
    and type(e.expiresAt) == 'number' and e.expiresAt > now then
    local stored = e.debt
    if e.limit ~= limit then stored = math.min(math.ceil(stored / e.limit), windowMs) * limit end
    stored = math.min(stored, capacity)
    local elapsed = now - e.at
    if elapsed >= windowMs then stored = 0
    elseif elapsed > 0 then stored = math.max(0, stored - elapsed * limit) end
    debt = stored
  end
end
local function save(d)
  local ttl = math.ceil(d / limit)
  -- %.0f, not tostring: tostring keeps only 14 significant digits.
  redis.call('SET', KEYS[1], string.format('{"at":%.0f,"debt":%.0f,"limit":%.0f,"expiresAt":%.0f}',
    now, d, limit, now + ttl), 'PX', string.format('%.0f', ttl))
  return ttl
end
if mode == 'r' then
  local left = math.max(0, debt - cost * windowMs)
  if left == 0 then
    redis.call('DEL', KEYS[1])
    return {1, limit, 0, 0}
  end
  return {1, math.floor((capacity - left) / windowMs), save(left), 0}
end
local newDebt = debt + cost * windowMs
if newDebt <= capacity then
  local ttl = math.ceil(newDebt / limit)
  if mode == 'c' then save(newDebt) end
  return {1, math.floor((capacity - newDebt) / windowMs), ttl, 0}
end
return {0, math.floor((capacity - debt) / windowMs), math.ceil(debt / limit), math.ceil((newDebt - capacity) / limit)}
`

/** The part of an ioredis client (or cluster) the scripts need. */
interface RedisScriptClient {
  evalsha: (sha: string, numKeys: number, ...args: string[]) => Promise<unknown>
  eval: (script: string, numKeys: number, ...args: string[]) => Promise<unknown>
}

const scriptShas = new Map<string, Promise<string>>()

function getScriptSha(script: string): Promise<string> {
  let sha = scriptShas.get(script)
  if (!sha) {
    sha = crypto.subtle.digest('SHA-1', new TextEncoder().encode(script))
      .then(digest => [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join(''))
    scriptShas.set(script, sha)
  }
  return sha
}

/** Whether the driver is unstorage's `redis` driver, with an ioredis client to run scripts on. */
export function isRedisDriver(driver: Driver): driver is Driver & { getInstance: () => unknown } {
  return driver?.name === 'redis' && typeof driver.getInstance === 'function'
}

/** Runs one of the limiter's scripts on the key the driver's own get/set use, and checks its reply. */
export async function runOnRedis<T>(script: string, driver: Driver, relativeKey: string, args: string[], read: (reply: unknown) => T | undefined): Promise<T> {
  const redisKey = getRedisEntryKey(driver, relativeKey)
  let reply: unknown
  try {
    const client = driver.getInstance!() as RedisScriptClient
    const sha = await getScriptSha(script)
    try {
      reply = await client.evalsha(sha, 1, redisKey, ...args)
    }
    catch (error) {
      // First call on this server (or after SCRIPT FLUSH): EVAL runs the script and caches it.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      reply = await client.eval(script, 1, redisKey, ...args)
    }
  }
  catch (error) {
    throw new RateLimitStoreError(error)
  }
  const result = read(reply)
  if (result === undefined) throw new RateLimitStoreError(new Error('unexpected script reply'))
  return result
}

/** The GCRA script's reply as a step, or undefined when it has an unexpected shape. */
export function readGcraReply(reply: unknown): GcraStep | undefined {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every(n => typeof n === 'number')) return undefined
  const [allowed, remaining, resetMs, retryAfterMs] = reply as number[]
  return { allowed: allowed === 1, remaining: remaining!, resetMs: resetMs!, retryAfterMs: retryAfterMs! }
}
