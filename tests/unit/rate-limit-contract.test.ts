import { afterAll, describe, expect, inject, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { getRandomPort } from 'get-port-please'
import type { Redis } from 'ioredis'
import { createStorage, defineDriver, type Storage } from 'unstorage'
import redisDriver from 'unstorage/drivers/redis'
import {
  consumeRateLimit,
  isRateLimitStoreError,
  RateLimitStoreError,
  type RateLimitPolicy,
  type RateLimitResult,
} from '../../layers/cockpit-gateway/server/utils/rate-limit'

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

describe.each([memoryCase, redisCase])('rate limit contract: $name', (driverCase) => {
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
    expect(await storage.getKeys('pile')).toHaveLength(50)
    await new Promise(resolve => setTimeout(resolve, 400))
    // A minute later (in injected time) the next request sweeps what a memory store kept; Redis expired it.
    await consumeRateLimit(storage, 'pile:last', policy, { now: t0 + 61_000 })
    expect(await storage.getKeys('pile')).toEqual(['pile:last'])
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
