import type { Driver, Storage } from 'unstorage'
import { normalizeKey } from 'unstorage'
import { getRedisEntryKey } from '../storage/redis-key'

// GCRA (generic cell rate algorithm) rather than fixed or sliding windows: it keeps one small entry
// per key (the theoretical arrival time, TAT), is exact, has no burst at window boundaries, and its
// check-and-update is a single atomic script on Redis.
//
// The TAT is kept as an anchor `at` (integer ms) plus `debt`, an integer count of 1/limit ms ticks,
// so every sum, comparison and division stays exact in doubles (Lua numbers are doubles too).
// One request of cost 1 adds `windowMs` ticks; the bucket holds `windowMs * limit` ticks.

/** A rate-limit policy: at most `limit` requests per `window` seconds, refilled continuously. */
export interface RateLimitPolicy {
  /** Requests allowed in one window; a positive integer. */
  limit: number
  /** Window length in seconds; a positive integer. */
  window: number
}

/** The outcome of {@link consumeRateLimit}. */
export interface RateLimitResult {
  /** Whether the request fits in the policy and was counted. */
  allowed: boolean
  /** The policy's `limit`. */
  limit: number
  /** The policy's `window`, seconds. */
  window: number
  /** Requests of cost 1 that would still be admitted right now. */
  remaining: number
  /** Seconds (rounded up) until the bucket is full again; 0 when nothing is counted. */
  resetSeconds: number
  /** Seconds (rounded up) until this request would be admitted; 0 when allowed. */
  retryAfterSeconds: number
}

/** Options of {@link consumeRateLimit}. */
export interface ConsumeRateLimitOptions {
  /**
   * Current time, ms since the epoch (floored to an integer). On Redis, leaving it out uses the
   * Redis server's clock, so instances with skewed clocks still agree.
   * @default Date.now() (Redis: the server's `TIME`)
   */
  now?: number
  /**
   * Units this request consumes; an integer from 1 to `limit`.
   * @default 1
   */
  cost?: number
}

/**
 * The rate-limit store failed (connection refused, timeout, script error): no decision was made.
 * Callers choose to fail open or closed; the message is fixed and carries no key or URL.
 */
export class RateLimitStoreError extends Error {
  /** @param cause what the driver threw, kept for logs; never shown to clients */
  constructor(cause: unknown) {
    super('Rate limit store failed', { cause })
    this.name = 'RateLimitStoreError'
  }
}

/**
 * Whether a value is a {@link RateLimitStoreError}.
 * @param error any thrown value
 */
export function isRateLimitStoreError(error: unknown): error is RateLimitStoreError {
  return error instanceof RateLimitStoreError
}

/**
 * Builds a storage key that unstorage stores as written: `namespace` is kept verbatim, every other
 * part is percent-encoded. Without this, unstorage would fold `/` into `:`, collapse `::` and cut at
 * `?`, so `2001:db8::1` and `2001:db8:1::` would share one bucket.
 * @param namespace already-normalised prefix, e.g. `cockpit-gateway:rate-limit:login`
 * @param parts client-derived parts (IP, username); each must be non-empty
 * @example buildRateLimitKey('cockpit-gateway:rate-limit:login', ip) // 'cockpit-gateway:rate-limit:login:2001%3Adb8%3A%3A1'
 */
export function buildRateLimitKey(namespace: string, ...parts: string[]): string {
  if (!namespace || normalizeKey(namespace) !== namespace) throw new TypeError('rate limit key: namespace must be a non-empty normalised unstorage key')
  if (parts.some(part => typeof part !== 'string' || part === '')) throw new TypeError('rate limit key: parts must be non-empty strings')
  return [namespace, ...parts.map(encodeKeyPart)].join(':')
}

function encodeKeyPart(part: string): string {
  // encodeURIComponent leaves `*` (a SCAN glob) and a few others as they are; encode them too.
  return encodeURIComponent(part).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/**
 * Counts one request against `policy` for `key` and says whether it is admitted (GCRA).
 *
 * Exactness:
 * - On a mount backed by unstorage's `redis` driver, check-and-update is one Lua script on Redis, so any
 *   number of instances sharing that Redis are exact together. The Redis key is the one unstorage
 *   uses for `key` (driver `base` + `:` + the key relative to its mount), holding the JSON entry
 *   with a `PX` expiry that ends when the bucket is full again.
 * - On any other driver, calls for the same key are serialised inside this process, so one instance is
 *   exact; several instances sharing a store without atomic updates are approximate. Each entry
 *   carries its own `expiresAt` (memory and LRU drivers ignore `ttl`) and expired entries of the
 *   key's namespace are swept at most once a minute. An LRU driver may evict live entries.
 *
 * Pass the root storage (`useStorage()`) or a storage created on the driver, with the full key: a
 * `prefixStorage` view (`useStorage('some:base')`) hides its prefix from `getMount`, so its driver
 * cannot be found; it is refused rather than silently made approximate. The key must be a normalised
 * unstorage key (see {@link buildRateLimitKey}). For a dead Redis to fail fast, give the driver
 * `commandTimeout`, `maxRetriesPerRequest` or `enableOfflineQueue: false`.
 *
 * @param storage the unstorage instance whose mount holds `key`
 * @param key normalised storage key, e.g. from {@link buildRateLimitKey}
 * @param policy limit and window
 * @param options injected time and cost
 * @returns the decision and the values for {@link rateLimitHeaders}
 * @throws RateLimitStoreError when the store fails; TypeError/RangeError on a bad key, policy, cost or storage
 * @example
 * const key = buildRateLimitKey('cockpit-gateway:rate-limit:login', ip)
 * const result = await consumeRateLimit(useStorage(), key, { limit: 10, window: 900 })
 */
export async function consumeRateLimit(
  storage: Storage,
  key: string,
  policy: RateLimitPolicy,
  options: ConsumeRateLimitOptions = {},
): Promise<RateLimitResult> {
  return runGcra(storage, key, policy, options, 'consume')
}

/**
 * What {@link consumeRateLimit} would answer right now, without counting anything: to tell a refused
 * client the one time after which the same request is admitted, across several policies.
 * Same arguments, exactness and errors as {@link consumeRateLimit}.
 * @param storage the unstorage instance whose mount holds `key`
 * @param key normalised storage key
 * @param policy limit and window
 * @param options injected time and cost
 */
export async function peekRateLimit(
  storage: Storage,
  key: string,
  policy: RateLimitPolicy,
  options: ConsumeRateLimitOptions = {},
): Promise<RateLimitResult> {
  return runGcra(storage, key, policy, options, 'peek')
}

/**
 * Gives back `cost` units a {@link consumeRateLimit} took (e.g. a login reserved before the attempt
 * that turned out to succeed). Atomic like the consume (one Lua script on Redis, the key's lock
 * elsewhere), never below an empty bucket; `allowed` is always true and `remaining` is after the refund.
 * @param storage the unstorage instance whose mount holds `key`
 * @param key normalised storage key
 * @param policy limit and window (the ones the consume used)
 * @param options injected time and cost
 */
export async function refundRateLimit(
  storage: Storage,
  key: string,
  policy: RateLimitPolicy,
  options: ConsumeRateLimitOptions = {},
): Promise<RateLimitResult> {
  return runGcra(storage, key, policy, options, 'refund')
}

type GcraMode = 'consume' | 'peek' | 'refund'

const GCRA_MODE_ARG: Record<GcraMode, string> = { consume: 'c', peek: 'p', refund: 'r' }

async function runGcra(storage: Storage, key: string, policy: RateLimitPolicy, options: ConsumeRateLimitOptions, mode: GcraMode): Promise<RateLimitResult> {
  const { limit, windowMs } = validatePolicy(policy)
  const cost = options.cost ?? 1
  if (!Number.isInteger(cost) || cost < 1 || cost > limit) throw new RangeError('rate limit: cost must be an integer from 1 to the limit')
  const { mount, relativeKey } = resolveLimiterMount(storage, key, options.now)

  let step: GcraStep
  if (mount && isRedisDriver(mount.driver)) {
    step = await runOnRedis(GCRA_LUA, mount.driver, relativeKey, [String(limit), String(windowMs), String(cost), nowArg(options.now), GCRA_MODE_ARG[mode]], reply => readGcraReply(reply))
  }
  else if (mount && isMemoryDriver(mount.driver)) {
    step = gcraInMemory(mount.driver.getInstance(), relativeKey, limit, windowMs, cost, Math.floor(options.now ?? Date.now()), mode)
  }
  else {
    const now = Math.floor(options.now ?? Date.now())
    const scope: object = mount?.driver ?? storage
    await sweepIfDue(storage, scope, sweepNamespace(mount?.base ?? '', relativeKey), now)
    step = await withKeyLock(scope, key, () => gcraInStorage(storage, key, limit, windowMs, cost, now, mode))
  }
  return {
    allowed: step.allowed,
    limit,
    window: policy.window,
    remaining: step.remaining,
    resetSeconds: Math.ceil(step.resetMs / 1000),
    retryAfterSeconds: step.allowed ? 0 : Math.ceil(step.retryAfterMs / 1000),
  }
}

/** What unstorage's `normalizeKey` would leave unchanged, in one test: no `?`, `/`, `\\`, `::`, or edge `:`. */
function isNormalisedKey(key: string): boolean {
  return !/[?/\\]|::|^:|:$/.test(key)
}

/** Checks the key, time and storage every limiter call shares, and finds the mount holding the key. */
function resolveLimiterMount(storage: Storage, key: string, now: number | undefined) {
  if (now !== undefined && !Number.isFinite(now)) throw new RangeError('rate limit: now must be a finite number')
  if (typeof key !== 'string' || !key || !isNormalisedKey(key)) throw new TypeError('rate limit: key must be a non-empty normalised unstorage key')
  // prefixStorage() aliases `keys` to its own `getKeys`; a root storage has two distinct functions.
  if (storage.keys === storage.getKeys) {
    throw new TypeError('rate limit: a prefixStorage view hides its mount (and so whether Redis can count atomically); pass the root storage, useStorage(), and the full key, e.g. buildRateLimitKey("cockpit-gateway:rate-limit", policy, subject)')
  }
  const mount = typeof storage.getMount === 'function' ? storage.getMount(key) : undefined
  const relativeKey = mount ? key.slice(mount.base.length) : key
  if (!relativeKey) throw new TypeError('rate limit: key must name an entry inside its mount, not the mount itself')
  return { mount, relativeKey }
}

function nowArg(now: number | undefined): string {
  return String(now === undefined ? -1 : Math.floor(now))
}

/**
 * The IETF rate-limit headers (draft-ietf-httpapi-ratelimit-headers-08 and later, structured-field form),
 * plus `Retry-After` when the request was refused.
 * @param result what {@link consumeRateLimit} returned
 * @param policyName policy identifier, printable ASCII (sent as a structured-field string)
 * @example setResponseHeaders(event, rateLimitHeaders(result, 'login'))
 * // RateLimit-Policy: "login";q=10;w=900   RateLimit: "login";r=9;t=90
 */
export function rateLimitHeaders(result: RateLimitResult, policyName: string): Record<string, string> {
  if (!/^[\x20-\x7E]+$/.test(policyName)) throw new TypeError('rate limit: policy name must be non-empty printable ASCII')
  const name = `"${policyName.replace(/["\\]/g, c => `\\${c}`)}"`
  const headers: Record<string, string> = {
    'RateLimit-Policy': `${name};q=${result.limit};w=${result.window}`,
    'RateLimit': `${name};r=${result.remaining};t=${result.resetSeconds}`,
  }
  if (!result.allowed) headers['Retry-After'] = String(result.retryAfterSeconds)
  return headers
}

// ---------------------------------------------------------------------------------------------
// GCRA step, shared by the storage path; the Lua script below mirrors it line for line.

/** What is stored per key, on every driver. The TAT is `at + debt / limit` ms. */
interface GcraEntry {
  /** When the entry was written, integer ms. */
  at: number
  /** Outstanding ticks (1/limit ms each) at `at`. */
  debt: number
  /** The limit `debt` was counted in; a changed policy rescales it. */
  limit: number
  /** When the bucket is full again and the entry means nothing, ms. */
  expiresAt: number
}

interface GcraStep {
  allowed: boolean
  remaining: number
  resetMs: number
  retryAfterMs: number
  next?: GcraEntry
}

function validatePolicy(policy: RateLimitPolicy): { limit: number, windowMs: number } {
  const { limit, window } = policy ?? {}
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('rate limit policy: limit must be a positive integer')
  if (!Number.isInteger(window) || window < 1) throw new RangeError('rate limit policy: window must be a positive integer of seconds')
  const windowMs = window * 1000
  // debt + cost ticks reaches 2 * windowMs * limit; it must stay an exact integer in a double.
  if (windowMs * limit * 2 > Number.MAX_SAFE_INTEGER) throw new RangeError('rate limit policy: limit × window is too large')
  return { limit, windowMs }
}

/** The entry's outstanding ticks at `now`, in the current policy's units. */
function drainedDebt(entry: GcraEntry | null, now: number, limit: number, windowMs: number): number {
  if (!entry) return 0
  let stored = entry.debt
  if (entry.limit !== limit) stored = Math.min(Math.ceil(stored / entry.limit), windowMs) * limit
  stored = Math.min(stored, windowMs * limit)
  const elapsed = now - entry.at
  // A clock that went backwards gives no credit; a full window drains any debt up to capacity.
  return elapsed >= windowMs ? 0 : elapsed > 0 ? Math.max(0, stored - elapsed * limit) : stored
}

function stepGcra(entry: GcraEntry | null, now: number, limit: number, windowMs: number, cost: number): GcraStep {
  const capacity = windowMs * limit
  const debt = drainedDebt(entry, now, limit, windowMs)
  const newDebt = debt + cost * windowMs
  if (newDebt <= capacity) {
    const ttlMs = Math.ceil(newDebt / limit)
    return {
      allowed: true,
      remaining: Math.floor((capacity - newDebt) / windowMs),
      resetMs: ttlMs,
      retryAfterMs: 0,
      next: { at: now, debt: newDebt, limit, expiresAt: now + ttlMs },
    }
  }
  return {
    allowed: false,
    remaining: Math.floor((capacity - debt) / windowMs),
    resetMs: Math.ceil(debt / limit),
    retryAfterMs: Math.ceil((newDebt - capacity) / limit),
  }
}

function refundGcra(entry: GcraEntry | null, now: number, limit: number, windowMs: number, cost: number): GcraStep {
  const capacity = windowMs * limit
  const debt = drainedDebt(entry, now, limit, windowMs)
  const left = Math.max(0, debt - cost * windowMs)
  const ttlMs = Math.ceil(left / limit)
  return {
    allowed: true,
    remaining: Math.floor((capacity - left) / windowMs),
    resetMs: ttlMs,
    retryAfterMs: 0,
    next: left > 0 ? { at: now, debt: left, limit, expiresAt: now + ttlMs } : undefined,
  }
}

function readEntry(value: unknown): GcraEntry | null {
  if (!value || typeof value !== 'object') return null
  const { at, debt, limit, expiresAt } = value as Record<string, unknown>
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
  if (!isCount(at) || !isCount(debt) || !isCount(limit) || limit < 1 || !isCount(expiresAt)) return null
  return { at, debt, limit, expiresAt }
}

// ---------------------------------------------------------------------------------------------
// Redis: one atomic script.

// KEYS[1] entry key; ARGV limit, windowMs, cost, now (negative: use the server clock), mode
// (`c` consume, `p` peek: decide without writing, `r` refund: give `cost` units back).
const GCRA_LUA = `
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

function isRedisDriver(driver: Driver): boolean {
  return driver?.name === 'redis' && typeof driver.getInstance === 'function'
}

/** Runs one of the limiter's scripts on the key the driver's own get/set use, and checks its reply. */
async function runOnRedis<T>(script: string, driver: Driver, relativeKey: string, args: string[], read: (reply: unknown) => T | undefined): Promise<T> {
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

function readGcraReply(reply: unknown): GcraStep | undefined {
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every(n => typeof n === 'number')) return undefined
  const [allowed, remaining, resetMs, retryAfterMs] = reply as number[]
  return { allowed: allowed === 1, remaining: remaining!, resetMs: resetMs!, retryAfterMs: retryAfterMs! }
}

// ---------------------------------------------------------------------------------------------
// Other drivers: read, compute and write under a per-key lock of this process.

const keyLocks = new WeakMap<object, Map<string, Promise<void>>>()

/** Runs `task` after every earlier task of the same scope and key; the lock disappears when idle. */
function withKeyLock<T>(scope: object, key: string, task: () => Promise<T>): Promise<T> {
  let locks = keyLocks.get(scope)
  if (!locks) keyLocks.set(scope, locks = new Map())
  const scopeLocks = locks
  const run = (scopeLocks.get(key) ?? Promise.resolve()).then(task)
  const tail = run.then(() => {}, () => {})
  scopeLocks.set(key, tail)
  void tail.then(() => {
    if (scopeLocks.get(key) === tail) scopeLocks.delete(key)
  })
  return run
}

async function storeCall<T>(call: () => Promise<T> | T): Promise<T> {
  try {
    return await call()
  }
  catch (error) {
    throw new RateLimitStoreError(error)
  }
}

// unstorage's memory driver: its Map, read and written in one synchronous step, which is atomic in
// JavaScript, so no lock, no promise and no serialisation per request. The entry is stored as the object
// itself, which `storage.getItem` returns unchanged.

/** An unstorage `memory` driver, whose instance is the Map it keeps entries in. */
type MemoryDriver = Driver & { getInstance: () => Map<string, unknown> }

function isMemoryDriver(driver: Driver): driver is MemoryDriver {
  return driver?.name === 'memory' && typeof driver.getInstance === 'function' && driver.getInstance() instanceof Map
}

function gcraInMemory(map: Map<string, unknown>, relativeKey: string, limit: number, windowMs: number, cost: number, now: number, mode: GcraMode): GcraStep {
  sweepMapIfDue(map, relativeKey, now)
  let entry = readEntry(map.get(relativeKey))
  if (entry && entry.expiresAt <= now) entry = null
  const step = mode === 'refund' ? refundGcra(entry, now, limit, windowMs, cost) : stepGcra(entry, now, limit, windowMs, cost)
  if (mode === 'peek') return step
  if (step.next) map.set(relativeKey, step.next)
  else if (mode === 'refund' && entry) map.delete(relativeKey)
  return step
}

const nextMapSweeps = new WeakMap<Map<string, unknown>, Map<string, number>>()

/** Drops the expired entries of the key's namespace (its first segment), at most once a minute per namespace. */
function sweepMapIfDue(map: Map<string, unknown>, relativeKey: string, now: number): void {
  const colon = relativeKey.indexOf(':')
  const namespace = colon === -1 ? '' : relativeKey.slice(0, colon + 1)
  let sweeps = nextMapSweeps.get(map)
  if (!sweeps) nextMapSweeps.set(map, sweeps = new Map())
  const due = sweeps.get(namespace)
  if (due !== undefined && now < due) return
  sweeps.set(namespace, now + SWEEP_INTERVAL_MS)
  for (const [key, value] of map) {
    if (!key.startsWith(namespace)) continue
    const entry = readEntry(value)
    if (entry && entry.expiresAt <= now) map.delete(key)
  }
}

async function gcraInStorage(storage: Storage, key: string, limit: number, windowMs: number, cost: number, now: number, mode: GcraMode): Promise<GcraStep> {
  let entry = readEntry(await storeCall(() => storage.getItem(key)))
  if (entry && entry.expiresAt <= now) entry = null
  const step = mode === 'refund' ? refundGcra(entry, now, limit, windowMs, cost) : stepGcra(entry, now, limit, windowMs, cost)
  if (mode === 'peek') return step
  // An absent or expired entry always admits (cost ≤ limit), so this write also replaces stale ones.
  const next = step.next
  if (next) {
    // Some stores (Cloudflare KV) refuse a TTL under 60 s; the entry's own expiresAt is what counts.
    const ttl = Math.max(60, Math.ceil((next.expiresAt - now) / 1000))
    await storeCall(() => storage.setItem(key, next, { ttl }))
  }
  else if (mode === 'refund' && entry) {
    await storeCall(() => storage.removeItem(key))
  }
  return step
}

const SWEEP_INTERVAL_MS = 60_000
const nextSweeps = new WeakMap<object, Map<string, number>>()

/** The key's mount base plus its first segment: one namespace per policy, so few sweeps. */
function sweepNamespace(mountBase: string, relativeKey: string): string {
  const colon = relativeKey.indexOf(':')
  return normalizeKey(colon === -1 ? mountBase : mountBase + relativeKey.slice(0, colon))
}

async function sweepIfDue(storage: Storage, scope: object, namespace: string, now: number): Promise<void> {
  let sweeps = nextSweeps.get(scope)
  if (!sweeps) nextSweeps.set(scope, sweeps = new Map())
  const due = sweeps.get(namespace)
  if (due !== undefined && now < due) return
  // Claimed before the first await, so concurrent requests do not sweep twice.
  sweeps.set(namespace, now + SWEEP_INTERVAL_MS)
  const keys = await storeCall(() => storage.getKeys(namespace))
  for (const key of keys) {
    // Under the key's lock, so a sweep never deletes an entry a concurrent consume just wrote.
    await withKeyLock(scope, key, async () => {
      // GCRA and backoff entries alike carry their own expiresAt.
      const expiresAt = readExpiresAt(await storeCall(() => storage.getItem(key)))
      if (expiresAt !== undefined && expiresAt <= now) await storeCall(() => storage.removeItem(key))
    })
  }
}

function readExpiresAt(value: unknown): number | undefined {
  if (!value || typeof value !== 'object') return undefined
  const { expiresAt } = value as Record<string, unknown>
  return typeof expiresAt === 'number' && Number.isFinite(expiresAt) ? expiresAt : undefined
}

// ---------------------------------------------------------------------------------------------
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
