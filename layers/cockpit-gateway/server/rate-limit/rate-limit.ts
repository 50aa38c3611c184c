import type { Storage } from 'unstorage'
import { normalizeKey } from 'unstorage'
import type { GcraStep, GcraMode } from './gcra'
import { gcraInMemory, isMemoryDriver } from './memory-store'
import { isDurableDriver, runInDurableObject } from './durable-store'
import { GCRA_LUA, GCRA_MODE_ARG, isRedisDriver, nowArg, readGcraReply, runOnRedis } from './redis-store'
import { gcraInStorage, sweepIfDue, sweepNamespace, withKeyLock } from './storage-store'

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
 * - On the gateway's Durable Object driver (Cloudflare, `durableObjectBinding`), the key's own object runs
 *   the step on its storage, one call per request, so every isolate is exact together.
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

async function runGcra(storage: Storage, key: string, policy: RateLimitPolicy, options: ConsumeRateLimitOptions, mode: GcraMode): Promise<RateLimitResult> {
  const { limit, windowMs } = validatePolicy(policy)
  const cost = options.cost ?? 1
  if (!Number.isInteger(cost) || cost < 1 || cost > limit) throw new RangeError('rate limit: cost must be an integer from 1 to the limit')
  const { mount, relativeKey } = resolveLimiterMount(storage, key, options.now)
  if (mount && isDurableDriver(mount.driver)) {
    return runInDurableObject(mount.driver, { op: 'gcra', key: relativeKey, mode, policy: { limit, window: policy.window }, cost, now: options.now })
  }

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
export function resolveLimiterMount(storage: Storage, key: string, now: number | undefined) {
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

function validatePolicy(policy: RateLimitPolicy): { limit: number, windowMs: number } {
  const { limit, window } = policy ?? {}
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('rate limit policy: limit must be a positive integer')
  if (!Number.isInteger(window) || window < 1) throw new RangeError('rate limit policy: window must be a positive integer of seconds')
  const windowMs = window * 1000
  // debt + cost ticks reaches 2 * windowMs * limit; it must stay an exact integer in a double.
  if (windowMs * limit * 2 > Number.MAX_SAFE_INTEGER) throw new RangeError('rate limit policy: limit × window is too large')
  return { limit, windowMs }
}
