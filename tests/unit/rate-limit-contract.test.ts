import { afterAll, describe, expect, inject, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { getRandomPort } from 'get-port-please'
import type { Redis } from 'ioredis'
import { createStorage, defineDriver, type Storage } from 'unstorage'
import redisDriver from 'unstorage/drivers/redis'
import { consumeBackoff, peekBackoff, refundBackoff, type BackoffPolicy } from '../../layers/cockpit-gateway/server/rate-limit/backoff'
import { durableObjectDriver } from '../../layers/cockpit-gateway/server/rate-limit/durable-driver'
import { FakeDurableNamespace } from '../support/durable-object-fake'
import {
  consumeRateLimit,
  peekRateLimit,
  refundRateLimit,
  type RateLimitPolicy,
  type RateLimitResult,
} from '../../layers/cockpit-gateway/server/rate-limit/rate-limit'
import { isRateLimitStoreError, RateLimitStoreError } from '../../layers/cockpit-gateway/server/rate-limit/store-error'

// One contract, every driver the gateway supports: what passes here on memory must pass on Redis.

const redisUrl = inject('redisUrl')
const RUN = `cg-rl-test-${process.pid}-${randomUUID().slice(0, 8)}`

interface DriverCase {
  name: string
  /** A storage on this driver; every call made in one test shares the same backing data. */
  open: () => Storage
  /** A storage on this driver whose backend fails. */
  openBroken: () => Promise<Storage>
  /** Milliseconds the backend will keep `key` (Redis PTTL), or null when the driver has no TTL. */
  backendTtl: (storage: Storage, key: string) => Promise<number | null>
  /** Keys under `prefix` the store still holds (its listing, or the backend's view). */
  keysLeft?: (storage: Storage, prefix: string) => Promise<string[]>
  /** Lets a store whose clean-up runs on its own schedule run it now. */
  expireNow?: () => Promise<void>
}

const opened: Storage[] = []
afterAll(async () => {
  for (const storage of opened) {
    await storage.clear().catch(() => {})
    await storage.dispose()
  }
})

function track(storage: Storage): Storage {
  opened.push(storage)
  return storage
}

/** The ioredis client behind a storage whose root mount is the redis driver. */
function redisClient(storage: Storage): Redis {
  return storage.getMount('').driver.getInstance!() as Redis
}

const memoryCase: DriverCase = {
  name: 'memory',
  open: (() => {
    // Every open() of one test shares a backing map, like several handles onto the same store.
    let shared: Storage | undefined
    return () => (shared ??= track(createStorage()))
  })(),
  openBroken: async () => {
    const failing = defineDriver(() => ({
      name: 'failing',
      hasItem: () => { throw new Error('backend down') },
      getItem: () => { throw new Error('backend down') },
      setItem: () => { throw new Error('backend down') },
      getKeys: () => { throw new Error('backend down') },
    }))
    return track(createStorage({ driver: failing({}) }))
  },
  backendTtl: async () => null,
}

const redisCase: DriverCase = {
  name: 'redis',
  // A separate ioredis connection per call: two calls behave like two gateway instances.
  open: () => track(createStorage({ driver: redisDriver({ url: redisUrl, base: RUN }) })),
  openBroken: async () => {
    const closedPort = await getRandomPort('127.0.0.1')
    const driver = redisDriver({
      url: `redis://127.0.0.1:${closedPort}`,
      lazyConnect: true,
      connectTimeout: 200,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    })
    // ioredis reports the refused connection as an event too; the test checks the rejection.
    ;(driver.getInstance!() as Redis).on('error', () => {})
    return track(createStorage({ driver }))
  },
  backendTtl: async (storage, key) => redisClient(storage).pttl(`${RUN}:${key}`),
}

// The gateway's Durable Object store (Cloudflare): each open() is another isolate (its own driver and
// unstorage) reaching the same objects through one namespace binding, the real class inside a stand-in runtime.
const durableNamespace = new FakeDurableNamespace()
;(globalThis as { __env__?: Record<string, unknown> }).__env__ = { GATEWAY_DO: durableNamespace }

const durableCase: DriverCase = {
  name: 'durable object',
  open: () => track(createStorage({ driver: durableObjectDriver({ binding: 'GATEWAY_DO', base: RUN }) })),
  // A binding the worker does not have: every call fails before reaching an object.
  openBroken: async () => track(createStorage({ driver: durableObjectDriver({ binding: 'NOT_BOUND', base: RUN }) })),
  backendTtl: async () => null,
  // Each key lives in its own object: what is left is what the objects hold.
  keysLeft: async (_storage, prefix) => durableNamespace.storedKeys().filter(k => k.startsWith(prefix)),
  // The clean-up alarms, fired (they delete only what has expired by now).
  expireNow: () => durableNamespace.runDueAlarms(Infinity),
}

/** Exact model of GCRA in rational arithmetic (BigInt ticks of 1/limit ms), to check drivers against. */
function referenceModel(policy: RateLimitPolicy) {
  const L = BigInt(policy.limit)
  const W = BigInt(policy.window * 1000)
  const cap = W * L
  let tat = 0n
  const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b
  return (nowMs: number, cost: number): Omit<RateLimitResult, 'limit' | 'window'> => {
    const now = BigInt(nowMs) * L
    const base = tat > now ? tat : now
    const next = base + BigInt(cost) * W
    if (next - now <= cap) {
      tat = next
      return { allowed: true, remaining: Number((cap - (next - now)) / W), resetSeconds: Number(ceilDiv(ceilDiv(next - now, L), 1000n)), retryAfterSeconds: 0 }
    }
    return {
      allowed: false,
      remaining: Number((cap - (base - now)) / W),
      resetSeconds: Number(ceilDiv(ceilDiv(base - now, L), 1000n)),
      retryAfterSeconds: Number(ceilDiv(ceilDiv(next - now - cap, L), 1000n)),
    }
  }
}

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6D2B79F5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe.each([memoryCase, redisCase, durableCase])('rate limit contract: $name', (driverCase) => {
  const key = (name: string) => `rl:${name}`

  it('admits exactly 100 of 500 concurrent requests (limit 100 / 3600 s)', async () => {
    const storage = driverCase.open()
    const results = await Promise.all(Array.from({ length: 500 }, () => consumeRateLimit(storage, key('burst'), { limit: 100, window: 3600 })))
    const admitted = results.filter(r => r.allowed)
    expect(admitted).toHaveLength(100)
    // Each admitted request saw a different count: 99 left, 98 left, … 0 left.
    expect(admitted.map(r => r.remaining).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect(results.filter(r => !r.allowed).every(r => r.retryAfterSeconds > 0 && r.remaining === 0)).toBe(true)
  })

  it('admits exactly the limit in total when two instances hammer one key', async () => {
    // Two handles: two ioredis connections on Redis; on memory the one process both share.
    const a = driverCase.open()
    const b = driverCase.open()
    const policy = { limit: 100, window: 3600 }
    const calls = Array.from({ length: 600 }, (_, i) => consumeRateLimit(i % 2 ? a : b, key('two-instances'), policy))
    const results = await Promise.all(calls)
    expect(results.filter(r => r.allowed)).toHaveLength(100)
  })

  it('agrees with an exact rational model over a random sequence', async () => {
    const storage = driverCase.open()
    const t0 = Date.now()
    for (const [seed, policy] of [[1, { limit: 7, window: 3 }], [2, { limit: 100, window: 60 }], [3, { limit: 3, window: 1 }]] as const) {
      const random = mulberry32(seed)
      const model = referenceModel(policy)
      let now = t0
      for (let i = 0; i < 300; i++) {
        now += Math.floor(random() * random() * 900)
        const cost = 1 + Math.floor(random() * random() * policy.limit)
        const result = await consumeRateLimit(storage, key(`model-${seed}`), policy, { now, cost })
        expect({ i, ...result }).toEqual({ i, limit: policy.limit, window: policy.window, ...model(now, cost) })
      }
    }
  })

  it('stores one entry per key that carries its own expiry, and ignores it after that', async () => {
    const storage = driverCase.open()
    const now = Date.now()
    const policy = { limit: 100, window: 3600 }
    await consumeRateLimit(storage, key('expiry'), policy, { now })
    const entry = await storage.getItem<{ at: number, debt: number, limit: number, expiresAt: number }>(key('expiry'))
    // One unit of a 100 / 3600 s bucket drains in 36 s.
    expect(entry).toMatchObject({ at: now, limit: 100, expiresAt: now + 36_000 })

    const ttl = await driverCase.backendTtl(storage, key('expiry'))
    if (ttl !== null) {
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(36_000)
    }
    for (let i = 0; i < 99; i++) await consumeRateLimit(storage, key('expiry'), policy, { now })
    const fullTtl = await driverCase.backendTtl(storage, key('expiry'))
    if (fullTtl !== null) {
      expect(fullTtl).toBeGreaterThan(36_000)
      expect(fullTtl).toBeLessThanOrEqual(3_600_000)
    }
    expect((await consumeRateLimit(storage, key('expiry'), policy, { now })).allowed).toBe(false)

    // An entry past its expiresAt means nothing, whatever else it says.
    await storage.setItem(key('stale'), { at: now, debt: 360_000_000, limit: 100, expiresAt: now - 1 })
    expect(await consumeRateLimit(storage, key('stale'), policy, { now })).toMatchObject({ allowed: true, remaining: 99 })
  })

  it('does not let keys pile up', async () => {
    const storage = driverCase.open()
    const policy = { limit: 5, window: 1 } // one unit drains in 200 ms
    const t0 = Date.now()
    for (let i = 0; i < 50; i++) await consumeRateLimit(storage, `pile:client-${i}`, policy, { now: t0 })
    const keysLeft = (prefix: string) => driverCase.keysLeft ? driverCase.keysLeft(storage, prefix) : storage.getKeys(prefix)
    expect(await keysLeft('pile')).toHaveLength(50)
    await new Promise(resolve => setTimeout(resolve, 400))
    // A minute later (in injected time) the next request sweeps what a memory store kept; Redis expired it;
    // each Durable Object's alarm clears its own.
    await consumeRateLimit(storage, 'pile:last', policy, { now: t0 + 61_000 })
    await driverCase.expireNow?.()
    expect(await keysLeft('pile')).toEqual(['pile:last'])
  })

  it('rejects with RateLimitStoreError when the store fails', async () => {
    const storage = await driverCase.openBroken()
    const error = await consumeRateLimit(storage, key('broken'), { limit: 1, window: 1 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitStoreError)
    expect(isRateLimitStoreError(error)).toBe(true)
    expect((error as Error).message).toBe('Rate limit store failed')
    expect((error as Error).cause).toBeInstanceOf(Error)
  })
})

describe('rate limit on Redis', () => {
  it('uses the key unstorage would use, under a mount and a driver base', async () => {
    const base = `${RUN}:mounted:`
    const root = track(createStorage())
    root.mount('cockpit-gateway:rate-limit', redisDriver({ url: redisUrl, base }))
    const key = 'cockpit-gateway:rate-limit:login:203.0.113.7'
    await consumeRateLimit(root, key, { limit: 10, window: 900 })

    const client = root.getMount(key).driver.getInstance!() as Redis
    const redisKey = `${RUN}:mounted:login:203.0.113.7`
    expect(JSON.parse((await client.get(redisKey))!)).toMatchObject({ limit: 10, debt: 900_000 })
    expect(await client.pttl(redisKey)).toBeGreaterThan(89_000)
    // unstorage sees the same entry through the mount.
    expect(await root.getItem(key)).toMatchObject({ limit: 10 })
    expect(await root.getKeys('cockpit-gateway:rate-limit')).toEqual([key])
  })

  it('still works after the script cache is flushed (EVALSHA falls back to EVAL)', async () => {
    const storage = redisCase.open()
    await consumeRateLimit(storage, 'rl:flush', { limit: 2, window: 60 })
    await redisClient(storage).script('FLUSH')
    expect(await consumeRateLimit(storage, 'rl:flush', { limit: 2, window: 60 })).toMatchObject({ allowed: true, remaining: 0 })
    expect((await consumeRateLimit(storage, 'rl:flush', { limit: 2, window: 60 })).allowed).toBe(false)
  })

  it('uses the Redis clock when no time is given, and decides the same for every instance', async () => {
    const a = redisCase.open()
    const b = redisCase.open()
    const policy = { limit: 3, window: 60 }
    expect((await consumeRateLimit(a, 'rl:clock', policy)).allowed).toBe(true)
    expect((await consumeRateLimit(b, 'rl:clock', policy)).allowed).toBe(true)
    expect((await consumeRateLimit(a, 'rl:clock', policy)).allowed).toBe(true)
    const refused = await consumeRateLimit(b, 'rl:clock', policy)
    expect(refused.allowed).toBe(false)
    // A unit comes back every 20 s, counted from the first call on the server's clock.
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(19)
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(20)
  })
})

/** Exact model of the failure backoff, restated from its definition, to check drivers against. */
function backoffModel(policy: BackoffPolicy) {
  let failures = 0
  let last = 0
  let expiresAt = 0
  const delay = (n: number) => n < policy.free ? 0 : Math.min(policy.maxDelay * 1000, policy.delay * 1000 * 2 ** (n - policy.free))
  return (now: number, op: 'consume' | 'peek' | 'refund') => {
    if (now >= expiresAt) failures = 0
    if (failures === 0) last = now
    if (op === 'refund') {
      failures = Math.max(0, failures - 1)
      expiresAt = last + delay(failures) + policy.window * 1000
      if (now >= expiresAt) failures = 0
      return { allowed: true, failures, retryAfterSeconds: 0 }
    }
    const until = last + delay(failures)
    if (now < until) return { allowed: false, failures, retryAfterSeconds: Math.ceil((until - now) / 1000) }
    if (op === 'peek') return { allowed: true, failures: failures + 1, retryAfterSeconds: 0 }
    failures += 1
    last = now
    expiresAt = now + delay(failures) + policy.window * 1000
    return { allowed: true, failures, retryAfterSeconds: 0 }
  }
}

describe.each([memoryCase, redisCase, durableCase])('rate limit peek and refund contract: $name', (driverCase) => {
  const key = (name: string) => `rl-refund:${name}`
  const policy = { limit: 3, window: 60 }

  it('peek decides like consume but counts nothing', async () => {
    const storage = driverCase.open()
    const now = Date.now()
    for (let i = 0; i < 5; i++) expect(await peekRateLimit(storage, key('peek'), policy, { now })).toMatchObject({ allowed: true, remaining: 2 })
    expect(await storage.getItem(key('peek'))).toBeNull()
    for (let i = 0; i < 3; i++) expect((await consumeRateLimit(storage, key('peek'), policy, { now })).allowed).toBe(true)
    const stored = await storage.getItem(key('peek'))
    const peeked = await peekRateLimit(storage, key('peek'), policy, { now: now + 1000 })
    const consumed = await consumeRateLimit(storage, key('peek'), policy, { now: now + 1000 })
    expect(peeked).toEqual(consumed)
    expect(peeked).toMatchObject({ allowed: false, retryAfterSeconds: 19 })
    expect(await storage.getItem(key('peek'))).toEqual(stored)
    // Admitted at exactly the announced time.
    expect((await peekRateLimit(storage, key('peek'), policy, { now: now + 20_000 })).allowed).toBe(true)
  })

  it('refund gives back exactly what a consume took, never below empty', async () => {
    const storage = driverCase.open()
    const now = Date.now()
    for (let i = 0; i < 3; i++) await consumeRateLimit(storage, key('refund'), policy, { now })
    expect((await consumeRateLimit(storage, key('refund'), policy, { now })).allowed).toBe(false)
    expect(await refundRateLimit(storage, key('refund'), policy, { now })).toMatchObject({ allowed: true, remaining: 1 })
    expect((await consumeRateLimit(storage, key('refund'), policy, { now })).allowed).toBe(true)
    expect((await consumeRateLimit(storage, key('refund'), policy, { now })).allowed).toBe(false)
    for (let i = 0; i < 5; i++) await refundRateLimit(storage, key('refund'), policy, { now })
    expect(await storage.getItem(key('refund'))).toBeNull()
    expect(await refundRateLimit(storage, key('refund'), policy, { now })).toMatchObject({ allowed: true, remaining: 3 })
    expect(await consumeRateLimit(storage, key('refund'), policy, { now })).toMatchObject({ allowed: true, remaining: 2 })
  })

  it('keeps exact count under concurrent consumes and refunds (reserve, then refund on success)', async () => {
    const a = driverCase.open()
    const b = driverCase.open()
    const big = { limit: 50, window: 3600 }
    const now = Date.now()
    for (let i = 0; i < 50; i++) await consumeRateLimit(a, key('race'), big, { now })
    // 30 refunds race 100 consumes on a full bucket: whatever the order, units are conserved.
    const calls = [
      ...Array.from({ length: 30 }, (_, i) => refundRateLimit(i % 2 ? a : b, key('race'), big, { now }).then(() => false)),
      ...Array.from({ length: 100 }, (_, i) => consumeRateLimit(i % 2 ? a : b, key('race'), big, { now }).then(r => r.allowed)),
    ]
    const admitted = (await Promise.all(calls)).filter(Boolean).length
    const after = await peekRateLimit(a, key('race'), big, { now })
    expect(admitted + after.remaining).toBe(30)
  })

  it('backoff: free failures, then doubling waits up to the cap, forgotten after the window', async () => {
    const storage = driverCase.open()
    const backoff = { free: 3, delay: 2, maxDelay: 8, window: 60 }
    const t0 = Date.now()
    for (let i = 1; i <= 3; i++) expect(await consumeBackoff(storage, key('backoff'), backoff, { now: t0 })).toEqual({ allowed: true, failures: i, retryAfterSeconds: 0 })
    expect(await consumeBackoff(storage, key('backoff'), backoff, { now: t0 })).toEqual({ allowed: false, failures: 3, retryAfterSeconds: 2 })
    expect(await peekBackoff(storage, key('backoff'), backoff, { now: t0 + 1999 })).toMatchObject({ allowed: false, retryAfterSeconds: 1 })
    let t = t0 + 2000
    for (const [failures, wait] of [[4, 4], [5, 8], [6, 8], [7, 8]] as const) {
      expect(await consumeBackoff(storage, key('backoff'), backoff, { now: t })).toEqual({ allowed: true, failures, retryAfterSeconds: 0 })
      expect(await consumeBackoff(storage, key('backoff'), backoff, { now: t + 1 })).toMatchObject({ allowed: false, failures })
      expect((await peekBackoff(storage, key('backoff'), backoff, { now: t })).retryAfterSeconds).toBe(wait)
      t += wait * 1000
    }
    // Refused and peeked attempts did not move the time: admitted exactly when announced.
    expect((await consumeBackoff(storage, key('backoff'), backoff, { now: t })).allowed).toBe(true)
    // 8 s wait + 60 s quiet: forgotten.
    expect(await consumeBackoff(storage, key('backoff'), backoff, { now: t + 68_000 })).toEqual({ allowed: true, failures: 1, retryAfterSeconds: 0 })
  })

  it('backoff: a refund gives back one reservation; the last one removes the entry', async () => {
    const storage = driverCase.open()
    const backoff = { free: 2, delay: 10, maxDelay: 100, window: 60 }
    const now = Date.now()
    await consumeBackoff(storage, key('backoff-refund'), backoff, { now })
    await consumeBackoff(storage, key('backoff-refund'), backoff, { now })
    expect((await peekBackoff(storage, key('backoff-refund'), backoff, { now })).allowed).toBe(false)
    expect(await refundBackoff(storage, key('backoff-refund'), backoff, { now })).toMatchObject({ allowed: true, failures: 1 })
    expect(await consumeBackoff(storage, key('backoff-refund'), backoff, { now })).toMatchObject({ allowed: true, failures: 2 })
    await refundBackoff(storage, key('backoff-refund'), backoff, { now })
    await refundBackoff(storage, key('backoff-refund'), backoff, { now })
    expect(await storage.getItem(key('backoff-refund'))).toBeNull()
    expect(await refundBackoff(storage, key('backoff-refund'), backoff, { now })).toEqual({ allowed: true, failures: 0, retryAfterSeconds: 0 })
  })

  it('backoff: a burst of 200 parallel attempts from two instances gets exactly the free ones through', async () => {
    const a = driverCase.open()
    const b = driverCase.open()
    const backoff = { free: 5, delay: 60, maxDelay: 600, window: 900 }
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => consumeBackoff(i % 2 ? a : b, key('backoff-burst'), backoff)))
    expect(results.filter(r => r.allowed)).toHaveLength(5)
    expect(results.filter(r => r.allowed).map(r => r.failures).sort()).toEqual([1, 2, 3, 4, 5])
    expect(results.filter(r => !r.allowed).every(r => r.retryAfterSeconds >= 59 && r.retryAfterSeconds <= 60)).toBe(true)
  })

  it('backoff agrees with its model over a random sequence of consumes, peeks and refunds', async () => {
    const storage = driverCase.open()
    const backoff = { free: 2, delay: 1, maxDelay: 5, window: 3 }
    const model = backoffModel(backoff)
    const random = mulberry32(7)
    let now = Date.now()
    for (let i = 0; i < 300; i++) {
      now += Math.floor(random() * random() * 4000)
      const r = random()
      const op = r < 0.6 ? 'consume' : r < 0.8 ? 'peek' : 'refund'
      const call = op === 'consume' ? consumeBackoff : op === 'peek' ? peekBackoff : refundBackoff
      const result = await call(storage, key('backoff-model'), backoff, { now })
      expect({ i, op, ...result }).toEqual({ i, op, ...model(now, op) })
    }
  })
})
