import { describe, expect, it } from 'vitest'
import { createStorage } from 'unstorage'
import { consumeBackoff } from '../../layers/cockpit-gateway/server/rate-limit/backoff'
import { consumeRateLimit } from '../../layers/cockpit-gateway/server/rate-limit/rate-limit'
import { isRateLimitStoreError } from '../../layers/cockpit-gateway/server/rate-limit/store-error'
import { createDurableStateClient, durableObjectDriver } from '../../layers/cockpit-gateway/server/rate-limit/durable-driver'
import { FakeDurableNamespace } from '../support/durable-object-fake'

// The gateway's Durable Object store beyond the limiter contract (which runs it in rate-limit-contract.test.ts):
// plain records for session state, the epoch's one-winner create, the clean-up alarm and refused input.
// The class is the real one; the Workers runtime around it is a stand-in (see durable-object-fake.ts).

const namespace = new FakeDurableNamespace()
;(globalThis as { __env__?: Record<string, unknown> }).__env__ = { ...(globalThis as { __env__?: object }).__env__, TEST_STATE_DO: namespace }

/** One isolate's view: its own driver and storage, the shared namespace. */
const isolate = (base = 'state') => createStorage({ driver: durableObjectDriver({ binding: 'TEST_STATE_DO', base }) })

describe('Durable Object state store', () => {
  it('shows a write through one isolate to another at once, and a removal too', async () => {
    const a = isolate()
    const b = isolate()
    await a.setItem('sessions:u1', { version: 2, revoked: { sid: 123 } })
    expect(await b.getItem('sessions:u1')).toEqual({ version: 2, revoked: { sid: 123 } })
    expect(await b.hasItem('sessions:u1')).toBe(true)
    await b.removeItem('sessions:u1')
    expect(await a.getItem('sessions:u1')).toBeNull()
    expect(await a.hasItem('sessions:u1')).toBe(false)
  })

  it('keeps one object per mount base and key', async () => {
    const before = namespace.objects.size
    await isolate('state').setItem('shared-name', 'x')
    await isolate('rate-limit').setItem('shared-name', 'y')
    expect(namespace.objects.size).toBe(before + 2)
    expect(await isolate('state').getItem('shared-name')).toBe('x')
  })

  it('creates a value once when isolates race (the epoch): every caller gets the first one', async () => {
    const clients = [createDurableStateClient({ binding: 'TEST_STATE_DO', base: 'state' }), createDurableStateClient({ binding: 'TEST_STATE_DO', base: 'state' })]
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => clients[i % 2]!.call({ op: 'setIfAbsent', key: 'epoch-race', value: `e-${i}` })))
    const values = new Set(answers.map(a => a.value))
    expect(values.size).toBe(1)
    expect(await isolate().getItem('epoch-race')).toBe([...values][0])
  })

  it('lets a plain removal reset a limiter bucket (a device bucket after a good login)', async () => {
    const storage = isolate('rate-limit')
    const policy = { free: 1, delay: 60, maxDelay: 60, window: 60 }
    expect((await consumeBackoff(storage, 'loginDevice:acct:dev', policy)).allowed).toBe(true)
    expect((await consumeBackoff(storage, 'loginDevice:acct:dev', policy)).allowed).toBe(false)
    await storage.removeItem('loginDevice:acct:dev')
    expect((await consumeBackoff(storage, 'loginDevice:acct:dev', policy)).allowed).toBe(true)
  })

  it('clears expired limiter entries in its alarm and never a record without expiry', async () => {
    const limits = isolate('rate-limit')
    const now = Date.now() - 10_000
    // Counted 10 s ago in a 1 s window: expired by now.
    await consumeRateLimit(limits, 'read:alarm-client', { limit: 5, window: 1 }, { now })
    await limits.setItem('owner-like', 'user-1')
    const object = namespace.objects.get('rate-limit:read:alarm-client')!
    expect(object.storage.alarmAt).not.toBeNull()
    await namespace.runDueAlarms(Infinity)
    expect(await limits.getItem('read:alarm-client')).toBeNull()
    expect(await limits.getItem('owner-like')).toBe('user-1')
  })

  it('answers a call the gateway cannot have sent with 400 and changes nothing', async () => {
    const stub = namespace.get('state:bad-input')
    for (const body of ['not json', JSON.stringify({ op: 'set', key: 'k' }), JSON.stringify({ op: 'drop', key: 'k' }), JSON.stringify({ op: 'gcra', key: 'k', mode: 'consume', policy: { limit: 0, window: 1 }, cost: 1 })]) {
      const response = await stub.fetch('https://x.internal/', { method: 'POST', body })
      expect(response.status).toBe(400)
      expect(await response.json()).toEqual({ error: 'bad request' })
    }
    expect(namespace.objects.get('state:bad-input')!.storage.data.size).toBe(0)
  })

  it('fails as a store error, with a fixed message, when the worker has no such binding', async () => {
    const storage = createStorage({ driver: durableObjectDriver({ binding: 'MISSING_DO', base: 'rate-limit' }) })
    const error = await consumeRateLimit(storage, 'read:x', { limit: 1, window: 1 }).catch((e: unknown) => e)
    expect(isRateLimitStoreError(error)).toBe(true)
    expect(((error as Error).cause as Error).message).toBe('Durable Object binding not available')
    await expect(storage.getItem('k')).rejects.toThrow('Durable Object binding not available')
  })

  it('costs one round trip per counted request', async () => {
    const storage = isolate('rate-limit')
    const before = namespace.calls
    for (let i = 0; i < 5; i++) await consumeRateLimit(storage, 'read:one-trip', { limit: 100, window: 60 })
    expect(namespace.calls - before).toBe(5)
  })
})
