import type { Storage } from 'unstorage'
import type { GcraMode } from './gcra'
import { isDurableDriver, runInDurableObject } from './durable-store'
import { resolveLimiterMount } from './rate-limit'
import { GCRA_MODE_ARG, isRedisDriver, nowArg, runOnRedis } from './redis-store'
import { storeCall, sweepIfDue, sweepNamespace, withKeyLock } from './storage-store'

// Failure backoff: growing delays between failures, for per-account login limits.

/**
 * A backoff policy: the first `free` failures are free; after them each attempt must wait
 * `delay`, `2 × delay`, `4 × delay` … seconds after the previous failure, at most `maxDelay`; the count is
 * forgotten `window` seconds after the last wait ended.
 */
export interface BackoffPolicy {
  /** Failures without any wait; a positive integer. */
  free: number
  /** First wait, seconds; a positive integer. */
  delay: number
  /** Longest wait, seconds; an integer ≥ `delay`. */
  maxDelay: number
  /** Quiet seconds after which the failures are forgotten; a positive integer. */
  window: number
}

/** The outcome of {@link consumeBackoff}, {@link peekBackoff} and {@link refundBackoff}. */
export interface BackoffResult {
  /** Whether the attempt is (or would be) admitted now; always true for a refund. */
  allowed: boolean
  /** Failures counted, after this call. */
  failures: number
  /** Seconds (rounded up) until the next attempt is admitted; 0 when it is admitted now. */
  retryAfterSeconds: number
}

/** Options of the backoff calls. */
export interface BackoffOptions {
  /**
   * Current time, ms since the epoch. On Redis, leaving it out uses the Redis server's clock.
   * @default Date.now() (Redis: the server's `TIME`)
   */
  now?: number
}

/**
 * Reserves one failure before an attempt whose outcome is not known yet (a login): refused while the
 * wait after the previous failure runs, otherwise counted at once, so a burst of parallel attempts gets
 * exactly the free ones through and no more. Give the reservation back with {@link refundBackoff} when
 * the attempt succeeds. Atomic on Redis (one Lua script) and per key in this process elsewhere, with the
 * same store rules as {@link consumeRateLimit}.
 * @param storage the unstorage instance whose mount holds `key` (the root storage)
 * @param key normalised storage key, e.g. from {@link buildRateLimitKey}
 * @param policy free failures, delays and window
 * @param options injected time
 * @throws RateLimitStoreError when the store fails
 * @example
 * const key = buildRateLimitKey('cockpit-gateway:rate-limit', 'loginUser', account)
 * const result = await consumeBackoff(useStorage(), key, { free: 5, delay: 1, maxDelay: 900, window: 900 })
 */
export async function consumeBackoff(storage: Storage, key: string, policy: BackoffPolicy, options: BackoffOptions = {}): Promise<BackoffResult> {
  return runBackoff(storage, key, policy, options, 'consume')
}

/**
 * What {@link consumeBackoff} would answer now, without counting.
 * @param storage the root storage
 * @param key normalised storage key
 * @param policy free failures, delays and window
 * @param options injected time
 */
export async function peekBackoff(storage: Storage, key: string, policy: BackoffPolicy, options: BackoffOptions = {}): Promise<BackoffResult> {
  return runBackoff(storage, key, policy, options, 'peek')
}

/**
 * Gives back one failure reserved by {@link consumeBackoff} (the attempt succeeded); atomic like it.
 * @param storage the root storage
 * @param key normalised storage key
 * @param policy free failures, delays and window
 * @param options injected time
 */
export async function refundBackoff(storage: Storage, key: string, policy: BackoffPolicy, options: BackoffOptions = {}): Promise<BackoffResult> {
  return runBackoff(storage, key, policy, options, 'refund')
}

/** What is stored per backoff key. */
interface BackoffEntry {
  /** Failures counted. */
  failures: number
  /** When the last one was reserved, integer ms. */
  last: number
  /** When the count is forgotten, ms. */
  expiresAt: number
}

interface BackoffStep {
  allowed: boolean
  failures: number
  retryAfterMs: number
  /** The entry to write; `null` deletes it; `undefined` leaves it. */
  next?: BackoffEntry | null
}

function validateBackoffPolicy(policy: BackoffPolicy): { free: number, delayMs: number, maxDelayMs: number, windowMs: number } {
  const { free, delay, maxDelay, window } = policy ?? {}
  const positive = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 10_000_000
  if (!positive(free) || !positive(delay) || !positive(maxDelay) || !positive(window)) throw new RangeError('backoff policy: free, delay, maxDelay and window must be positive integers')
  if (maxDelay < delay) throw new RangeError('backoff policy: maxDelay must be at least delay')
  return { free, delayMs: delay * 1000, maxDelayMs: maxDelay * 1000, windowMs: window * 1000 }
}

/** The wait after `failures` failures: none for the free ones, then doubling up to the cap. */
function backoffDelay(failures: number, free: number, delayMs: number, maxDelayMs: number): number {
  if (failures < free) return 0
  return Math.min(maxDelayMs, delayMs * 2 ** Math.min(failures - free, 60))
}

function stepBackoff(entry: BackoffEntry | null, now: number, free: number, delayMs: number, maxDelayMs: number, windowMs: number, mode: GcraMode): BackoffStep {
  const failures = entry ? entry.failures : 0
  const last = entry ? entry.last : now
  if (mode === 'refund') {
    if (failures <= 1) return { allowed: true, failures: 0, retryAfterMs: 0, next: entry ? null : undefined }
    const left = failures - 1
    const until = last + backoffDelay(left, free, delayMs, maxDelayMs)
    const expiresAt = until + windowMs
    if (expiresAt <= now) return { allowed: true, failures: 0, retryAfterMs: 0, next: null }
    return { allowed: true, failures: left, retryAfterMs: Math.max(0, until - now), next: { failures: left, last, expiresAt } }
  }
  const until = last + backoffDelay(failures, free, delayMs, maxDelayMs)
  if (now < until) return { allowed: false, failures, retryAfterMs: until - now }
  const counted = failures + 1
  const next = { failures: counted, last: now, expiresAt: now + backoffDelay(counted, free, delayMs, maxDelayMs) + windowMs }
  return { allowed: true, failures: counted, retryAfterMs: 0, next: mode === 'consume' ? next : undefined }
}

function readBackoffEntry(value: unknown): BackoffEntry | null {
  if (!value || typeof value !== 'object') return null
  const { failures, last, expiresAt } = value as Record<string, unknown>
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
  if (!isCount(failures) || failures < 1 || !isCount(last) || !isCount(expiresAt)) return null
  return { failures, last, expiresAt }
}

// KEYS[1] entry key; ARGV free, delayMs, maxDelayMs, windowMs, now (negative: the server clock), mode (c, p, r).
// Mirrors stepBackoff line for line.
const BACKOFF_LUA = `
local free = tonumber(ARGV[1])
local delayMs = tonumber(ARGV[2])
local maxDelayMs = tonumber(ARGV[3])
local windowMs = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local mode = ARGV[6]
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function delayOf(n)
  if n < free then return 0 end
  return math.min(maxDelayMs, delayMs * 2 ^ math.min(n - free, 60))
end
local function save(failures, last, expiresAt)
  redis.call('SET', KEYS[1], string.format('{"failures":%.0f,"last":%.0f,"expiresAt":%.0f}', failures, last, expiresAt),
    'PX', string.format('%.0f', expiresAt - now))
end
local failures = 0
local last = now
local exists = false
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, e = pcall(cjson.decode, raw)
  if ok and type(e) == 'table' and type(e.failures) == 'number' and e.failures >= 1
    and type(e.last) == 'number' and type(e.expiresAt) == 'number' and e.expiresAt > now then
    failures = e.failures
    last = e.last
    exists = true
  end
end
if mode == 'r' then
  if failures <= 1 then
    if exists then redis.call('DEL', KEYS[1]) end
    return {1, 0, 0}
  end
  local left = failures - 1
  local untilMs = last + delayOf(left)
  if untilMs + windowMs <= now then
    redis.call('DEL', KEYS[1])
    return {1, 0, 0}
  end
  save(left, last, untilMs + windowMs)
  return {1, left, math.max(0, untilMs - now)}
end
local untilMs = last + delayOf(failures)
if now < untilMs then return {0, failures, untilMs - now} end
if mode == 'c' then save(failures + 1, now, now + delayOf(failures + 1) + windowMs) end
return {1, failures + 1, 0}
`

async function runBackoff(storage: Storage, key: string, policy: BackoffPolicy, options: BackoffOptions, mode: GcraMode): Promise<BackoffResult> {
  const { free, delayMs, maxDelayMs, windowMs } = validateBackoffPolicy(policy)
  const { mount, relativeKey } = resolveLimiterMount(storage, key, options.now)
  if (mount && isDurableDriver(mount.driver)) {
    const { free, delay, maxDelay, window } = policy
    return runInDurableObject(mount.driver, { op: 'backoff', key: relativeKey, mode, policy: { free, delay, maxDelay, window }, now: options.now })
  }
  let step: Pick<BackoffStep, 'allowed' | 'failures' | 'retryAfterMs'>
  if (mount && isRedisDriver(mount.driver)) {
    const args = [String(free), String(delayMs), String(maxDelayMs), String(windowMs), nowArg(options.now), GCRA_MODE_ARG[mode]]
    step = await runOnRedis(BACKOFF_LUA, mount.driver, relativeKey, args, (reply) => {
      if (!Array.isArray(reply) || reply.length !== 3 || !reply.every(n => typeof n === 'number')) return undefined
      const [allowed, failures, retryAfterMs] = reply as number[]
      return { allowed: allowed === 1, failures: failures!, retryAfterMs: retryAfterMs! }
    })
  }
  else {
    const now = Math.floor(options.now ?? Date.now())
    const scope: object = mount?.driver ?? storage
    await sweepIfDue(storage, scope, sweepNamespace(mount?.base ?? '', relativeKey), now)
    step = await withKeyLock(scope, key, async () => {
      let entry = readBackoffEntry(await storeCall(() => storage.getItem(key)))
      if (entry && entry.expiresAt <= now) entry = null
      const result = stepBackoff(entry, now, free, delayMs, maxDelayMs, windowMs, mode)
      const next = result.next
      if (next) await storeCall(() => storage.setItem(key, next, { ttl: Math.max(60, Math.ceil((next.expiresAt - now) / 1000)) }))
      else if (next === null) await storeCall(() => storage.removeItem(key))
      return result
    })
  }
  return { allowed: step.allowed, failures: step.failures, retryAfterSeconds: step.allowed ? 0 : Math.ceil(step.retryAfterMs / 1000) }
}
