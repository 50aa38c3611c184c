import { describe, expect, it } from 'vitest'
import { createStorage, normalizeKey, prefixStorage } from 'unstorage'
import {
  buildRateLimitKey,
  consumeRateLimit,
  rateLimitHeaders,
  type RateLimitPolicy,
} from '../../layers/cockpit-gateway/server/rate-limit/rate-limit'

const T0 = 1_760_000_000_000

/** A fresh memory storage and a consume bound to one key, with time given in ms after T0. */
function bucket(policy: RateLimitPolicy, key = 'rl:test:client') {
  const storage = createStorage()
  return {
    storage,
    key,
    at: (ms: number, cost?: number) => consumeRateLimit(storage, key, policy, { now: T0 + ms, cost }),
  }
}

describe('GCRA maths', () => {
  it('admits exactly `limit` at once, each with the right remaining and reset, then refuses', async () => {
    const { at } = bucket({ limit: 3, window: 60 })
    expect(await at(0)).toEqual({ allowed: true, limit: 3, window: 60, remaining: 2, resetSeconds: 20, retryAfterSeconds: 0 })
    expect(await at(0)).toMatchObject({ allowed: true, remaining: 1, resetSeconds: 40 })
    expect(await at(0)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 })
    // One unit comes back every window / limit = 20 s.
    expect(await at(0)).toEqual({ allowed: false, limit: 3, window: 60, remaining: 0, resetSeconds: 60, retryAfterSeconds: 20 })
  })

  it('the N+1th in a window of 100 / 3600 s is told when one unit is back (every 36 s)', async () => {
    const { at } = bucket({ limit: 100, window: 3600 })
    for (let i = 0; i < 100; i++) expect((await at(0)).allowed).toBe(true)
    expect(await at(0)).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 36, resetSeconds: 3600 })
    // 1 s later, 35 s to go; 36 s after the burst one request fits again.
    expect(await at(1000)).toMatchObject({ allowed: false, retryAfterSeconds: 35, resetSeconds: 3599 })
    expect(await at(36_000)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 3600 })
  })

  it('refills continuously, one unit per emission interval, and never before it', async () => {
    const { at } = bucket({ limit: 3, window: 60 })
    for (let i = 0; i < 3; i++) await at(0)
    expect(await at(10_000)).toMatchObject({ allowed: false, retryAfterSeconds: 10, resetSeconds: 50 })
    expect(await at(19_999)).toMatchObject({ allowed: false, retryAfterSeconds: 1 })
    expect(await at(20_000)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 60 })
    expect(await at(20_000)).toMatchObject({ allowed: false, retryAfterSeconds: 20 })
    // A whole window later the bucket is full again.
    expect(await at(80_000)).toMatchObject({ allowed: true, remaining: 2, resetSeconds: 20 })
  })

  it('refused requests are not counted', async () => {
    const { at } = bucket({ limit: 2, window: 10 })
    await at(0)
    await at(0)
    for (let i = 0; i < 50; i++) expect((await at(1000)).allowed).toBe(false)
    expect((await at(5000)).allowed).toBe(true)
  })

  it('stays exact when the emission interval is not a whole number of ms (limit 3 per 1 s)', async () => {
    const { at } = bucket({ limit: 3, window: 1 })
    for (let i = 0; i < 3; i++) expect((await at(0)).allowed).toBe(true)
    expect((await at(0)).allowed).toBe(false)
    // 1000 / 3 = 333.33… ms: not yet at 333, admitted at 334, and the third unit is back at 1000.
    expect((await at(333)).allowed).toBe(false)
    expect((await at(334)).allowed).toBe(true)
    expect((await at(666)).allowed).toBe(false)
    expect((await at(667)).allowed).toBe(true)
    expect((await at(999)).allowed).toBe(false)
    expect((await at(1000)).allowed).toBe(true)
    expect((await at(1000)).allowed).toBe(false)
  })

  it('admits exactly `limit` in a burst for large limits and short windows', async () => {
    for (const policy of [{ limit: 3000, window: 1 }, { limit: 7919, window: 3 }]) {
      const { at } = bucket(policy)
      let admitted = 0
      for (let i = 0; i < policy.limit + 20; i++) if ((await at(0)).allowed) admitted++
      expect(admitted).toBe(policy.limit)
    }
  })

  it('counts cost: a request of cost k takes k units, and is refused whole when they are not there', async () => {
    const { at } = bucket({ limit: 10, window: 10 })
    expect(await at(0, 4)).toMatchObject({ allowed: true, remaining: 6, resetSeconds: 4 })
    // 7 > 6 remaining: refused, nothing counted, one more unit needed = 1 s.
    expect(await at(0, 7)).toMatchObject({ allowed: false, remaining: 6, retryAfterSeconds: 1, resetSeconds: 4 })
    expect(await at(0, 6)).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 10 })
    expect(await at(0, 1)).toMatchObject({ allowed: false, retryAfterSeconds: 1 })
  })

  it('refuses a cost outside 1..limit and a bad policy or time', async () => {
    const { at, storage, key } = bucket({ limit: 5, window: 10 })
    await expect(at(0, 0)).rejects.toThrow(RangeError)
    await expect(at(0, 6)).rejects.toThrow(RangeError)
    await expect(at(0, 1.5)).rejects.toThrow(RangeError)
    for (const policy of [{ limit: 0, window: 10 }, { limit: 1.5, window: 10 }, { limit: 5, window: 0 }, { limit: 5, window: 0.5 }, { limit: 1e9, window: 1e7 }]) {
      await expect(consumeRateLimit(storage, key, policy)).rejects.toThrow(RangeError)
    }
    await expect(consumeRateLimit(storage, key, { limit: 5, window: 10 }, { now: Number.NaN })).rejects.toThrow(RangeError)
  })

  it('gives no credit when the clock goes backwards', async () => {
    const { at } = bucket({ limit: 2, window: 10 })
    await at(10_000)
    await at(10_000)
    expect((await at(0)).allowed).toBe(false)
    expect((await at(15_000)).allowed).toBe(true)
  })

  it('rescales a stored entry when the policy limit changes, keeping the time owed', async () => {
    const storage = createStorage()
    const key = 'rl:test:policy-change'
    for (let i = 0; i < 10; i++) await consumeRateLimit(storage, key, { limit: 10, window: 10 }, { now: T0 })
    // 10 s are owed; under 5 per 10 s that is a full bucket, and a unit comes back every 2 s.
    expect(await consumeRateLimit(storage, key, { limit: 5, window: 10 }, { now: T0 })).toMatchObject({ allowed: false, retryAfterSeconds: 2, resetSeconds: 10 })
    expect(await consumeRateLimit(storage, key, { limit: 5, window: 10 }, { now: T0 + 2000 })).toMatchObject({ allowed: true, remaining: 0 })
  })

  it('keeps separate keys separate', async () => {
    const storage = createStorage()
    const policy = { limit: 1, window: 60 }
    expect((await consumeRateLimit(storage, 'rl:a', policy, { now: T0 })).allowed).toBe(true)
    expect((await consumeRateLimit(storage, 'rl:b', policy, { now: T0 })).allowed).toBe(true)
    expect((await consumeRateLimit(storage, 'rl:a', policy, { now: T0 })).allowed).toBe(false)
  })
})

describe('keys and storages', () => {
  it('buildRateLimitKey keeps IPv6 addresses apart and yields keys unstorage stores as written', () => {
    const a = buildRateLimitKey('cockpit-gateway:rate-limit:login', '2001:db8::1')
    const b = buildRateLimitKey('cockpit-gateway:rate-limit:login', '2001:db8:1::')
    expect(a).toBe('cockpit-gateway:rate-limit:login:2001%3Adb8%3A%3A1')
    expect(a).not.toBe(b)
    for (const part of ['a/b', 'a?b', 'x\\y', ':lead', 'trail:', '*', 'über']) {
      const key = buildRateLimitKey('rl', part)
      expect(normalizeKey(key)).toBe(key)
    }
    expect(() => buildRateLimitKey('rl', '')).toThrow(TypeError)
    expect(() => buildRateLimitKey('rl:', 'x')).toThrow(TypeError)
  })

  it('refuses keys unstorage would rewrite, so two clients can never share a bucket by accident', async () => {
    const storage = createStorage()
    for (const key of ['', 'rl:2001:db8::1', 'a/b', ':a', 'a:', 'a?b']) {
      await expect(consumeRateLimit(storage, key, { limit: 1, window: 1 })).rejects.toThrow(TypeError)
    }
  })

  it('refuses a prefixStorage view, whose mount it could not find', async () => {
    const root = createStorage()
    await expect(consumeRateLimit(prefixStorage(root, 'rl'), 'x', { limit: 1, window: 1 })).rejects.toThrow(/prefixStorage/)
  })

  it('refuses a key that names a mount itself', async () => {
    const root = createStorage()
    root.mount('rl', createStorage().getMount('').driver)
    await expect(consumeRateLimit(root, 'rl', { limit: 1, window: 1 })).rejects.toThrow(TypeError)
    await root.dispose()
  })
})

describe('rateLimitHeaders', () => {
  it('writes the structured-field headers, and Retry-After only on refusal', async () => {
    const { at } = bucket({ limit: 2, window: 60 })
    expect(rateLimitHeaders(await at(0), 'login')).toEqual({
      'RateLimit-Policy': '"login";q=2;w=60',
      'RateLimit': '"login";r=1;t=30',
    })
    await at(0)
    expect(rateLimitHeaders(await at(0), 'login')).toEqual({
      'RateLimit-Policy': '"login";q=2;w=60',
      'RateLimit': '"login";r=0;t=60',
      'Retry-After': '30',
    })
  })

  it('escapes the policy name as a structured-field string and refuses non-ASCII', async () => {
    const result = await bucket({ limit: 1, window: 1 }).at(0)
    expect(rateLimitHeaders(result, 'a"b\\c')['RateLimit-Policy']).toBe('"a\\"b\\\\c";q=1;w=1')
    expect(() => rateLimitHeaders(result, 'naïve')).toThrow(TypeError)
    expect(() => rateLimitHeaders(result, 'line\nbreak')).toThrow(TypeError)
    expect(() => rateLimitHeaders(result, '')).toThrow(TypeError)
  })
})
