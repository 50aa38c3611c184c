import type { Driver, Storage } from 'unstorage'
import { joinKeys, normalizeKey } from 'unstorage'

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

/** What unstorage's `normalizeKey` would leave unchanged, in one test: no `?`, `/`, `\\`, `::`, or edge `:`. */
function isNormalisedKey(key: string): boolean {
  return !/[?/\\]|::|^:|:$/.test(key)
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
  const { limit, windowMs } = validatePolicy(policy)
  const cost = options.cost ?? 1
  if (!Number.isInteger(cost) || cost < 1 || cost > limit) throw new RangeError('rate limit: cost must be an integer from 1 to the limit')
  if (options.now !== undefined && !Number.isFinite(options.now)) throw new RangeError('rate limit: now must be a finite number')
  if (typeof key !== 'string' || !key || !isNormalisedKey(key)) throw new TypeError('rate limit: key must be a non-empty normalised unstorage key')
  // prefixStorage() aliases `keys` to its own `getKeys`; a root storage has two distinct functions.
  if (storage.keys === storage.getKeys) {
    throw new TypeError('rate limit: a prefixStorage view hides its mount (and so whether Redis can count atomically); pass the root storage, useStorage(), and the full key, e.g. buildRateLimitKey("cockpit-gateway:rate-limit", policy, subject)')
  }

  const mount = typeof storage.getMount === 'function' ? storage.getMount(key) : undefined
  const relativeKey = mount ? key.slice(mount.base.length) : key
  if (!relativeKey) throw new TypeError('rate limit: key must name an entry inside its mount, not the mount itself')

  let step: GcraStep
  if (mount && isRedisDriver(mount.driver)) {
    step = await consumeOnRedis(mount.driver, relativeKey, limit, windowMs, cost, options.now)
  }
  else if (mount && isMemoryDriver(mount.driver)) {
    step = consumeInMemory(mount.driver.getInstance(), relativeKey, limit, windowMs, cost, Math.floor(options.now ?? Date.now()))
  }
  else {
    const now = Math.floor(options.now ?? Date.now())
    const scope: object = mount?.driver ?? storage
    await sweepIfDue(storage, scope, sweepNamespace(mount?.base ?? '', relativeKey), now)
    step = await withKeyLock(scope, key, () => consumeInStorage(storage, key, limit, windowMs, cost, now))
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

function stepGcra(entry: GcraEntry | null, now: number, limit: number, windowMs: number, cost: number): GcraStep {
  const capacity = windowMs * limit
  let debt = 0
  if (entry) {
    let stored = entry.debt
    if (entry.limit !== limit) stored = Math.min(Math.ceil(stored / entry.limit), windowMs) * limit
    stored = Math.min(stored, capacity)
    const elapsed = now - entry.at
    // A clock that went backwards gives no credit; a full window drains any debt up to capacity.
    debt = elapsed >= windowMs ? 0 : elapsed > 0 ? Math.max(0, stored - elapsed * limit) : stored
  }
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

function readEntry(value: unknown): GcraEntry | null {
  if (!value || typeof value !== 'object') return null
  const { at, debt, limit, expiresAt } = value as Record<string, unknown>
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
  if (!isCount(at) || !isCount(debt) || !isCount(limit) || limit < 1 || !isCount(expiresAt)) return null
  return { at, debt, limit, expiresAt }
}

// ---------------------------------------------------------------------------------------------
// Redis: one atomic script.

// KEYS[1] entry key; ARGV limit, windowMs, cost, now (negative: use the server clock).
const GCRA_LUA = `
local limit = tonumber(ARGV[1])
local windowMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
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
local newDebt = debt + cost * windowMs
if newDebt <= capacity then
  local ttl = math.ceil(newDebt / limit)
  -- %.0f, not tostring: tostring keeps only 14 significant digits.
  redis.call('SET', KEYS[1], string.format('{"at":%.0f,"debt":%.0f,"limit":%.0f,"expiresAt":%.0f}',
    now, newDebt, limit, now + ttl), 'PX', string.format('%.0f', ttl))
  return {1, math.floor((capacity - newDebt) / windowMs), ttl, 0}
end
return {0, math.floor((capacity - debt) / windowMs), math.ceil(debt / limit), math.ceil((newDebt - capacity) / limit)}
`

/** The part of an ioredis client (or cluster) the script needs. */
interface RedisScriptClient {
  evalsha: (sha: string, numKeys: number, ...args: string[]) => Promise<unknown>
  eval: (script: string, numKeys: number, ...args: string[]) => Promise<unknown>
}

let gcraSha: Promise<string> | undefined

function getGcraSha(): Promise<string> {
  gcraSha ??= crypto.subtle.digest('SHA-1', new TextEncoder().encode(GCRA_LUA))
    .then(digest => [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join(''))
  return gcraSha
}

function isRedisDriver(driver: Driver): boolean {
  return driver?.name === 'redis' && typeof driver.getInstance === 'function'
}

async function consumeOnRedis(driver: Driver, relativeKey: string, limit: number, windowMs: number, cost: number, now: number | undefined): Promise<GcraStep> {
  // The same key the driver's own get/set use: its `base` (trailing `:` dropped) joined with ours.
  const base = String((driver.options as { base?: string } | undefined)?.base ?? '').replace(/:$/, '')
  const redisKey = joinKeys(base, relativeKey)
  const args = [String(limit), String(windowMs), String(cost), String(now === undefined ? -1 : Math.floor(now))]
  let reply: unknown
  try {
    const client = driver.getInstance!() as RedisScriptClient
    const sha = await getGcraSha()
    try {
      reply = await client.evalsha(sha, 1, redisKey, ...args)
    }
    catch (error) {
      // First call on this server (or after SCRIPT FLUSH): EVAL runs the script and caches it.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      reply = await client.eval(GCRA_LUA, 1, redisKey, ...args)
    }
  }
  catch (error) {
    throw new RateLimitStoreError(error)
  }
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every(n => typeof n === 'number')) {
    throw new RateLimitStoreError(new Error('unexpected script reply'))
  }
  const [allowed, remaining, resetMs, retryAfterMs] = reply as number[]
  return { allowed: allowed === 1, remaining: remaining!, resetMs: resetMs!, retryAfterMs: retryAfterMs! }
}

// ---------------------------------------------------------------------------------------------
// unstorage's memory driver: its Map, read and written in one synchronous step, which is atomic in
// JavaScript, so no lock, no promise and no serialisation per request. The entry is stored as the object
// itself, which `storage.getItem` returns unchanged.

/** An unstorage `memory` driver, whose instance is the Map it keeps entries in. */
type MemoryDriver = Driver & { getInstance: () => Map<string, unknown> }

function isMemoryDriver(driver: Driver): driver is MemoryDriver {
  return driver?.name === 'memory' && typeof driver.getInstance === 'function' && driver.getInstance() instanceof Map
}

function consumeInMemory(map: Map<string, unknown>, relativeKey: string, limit: number, windowMs: number, cost: number, now: number): GcraStep {
  sweepMapIfDue(map, relativeKey, now)
  let entry = readEntry(map.get(relativeKey))
  if (entry && entry.expiresAt <= now) entry = null
  const step = stepGcra(entry, now, limit, windowMs, cost)
  if (step.next) map.set(relativeKey, step.next)
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

async function consumeInStorage(storage: Storage, key: string, limit: number, windowMs: number, cost: number, now: number): Promise<GcraStep> {
  let entry = readEntry(await storeCall(() => storage.getItem(key)))
  if (entry && entry.expiresAt <= now) entry = null
  const step = stepGcra(entry, now, limit, windowMs, cost)
  // An absent or expired entry always admits (cost ≤ limit), so this write also replaces stale ones.
  const next = step.next
  if (next) {
    // Some stores (Cloudflare KV) refuse a TTL under 60 s; the entry's own expiresAt is what counts.
    const ttl = Math.max(60, Math.ceil((next.expiresAt - now) / 1000))
    await storeCall(() => storage.setItem(key, next, { ttl }))
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
      const entry = readEntry(await storeCall(() => storage.getItem(key)))
      if (entry && entry.expiresAt <= now) await storeCall(() => storage.removeItem(key))
    })
  }
}
