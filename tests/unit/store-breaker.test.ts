import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

// The breaker reads its interval from the gateway config, which needs Nitro's runtime: a fixed config
// stands in for it (the e2e suite runs the real one against a Redis that is stopped and started).
vi.mock('../../layers/cockpit-gateway/server/config/gateway-config', () => ({
  useGatewayConfig: () => ({ storeRetryInterval: 1000 }),
}))

const breaker = await import('../../layers/cockpit-gateway/server/storage/gateway-store-breaker')
const { GatewayStoreDownError, guardGatewayStoreCall, isGatewayStoreDown, mayCallGatewayStore, noteGatewayStoreFailure, setGatewayStoreConnected } = breaker

describe('store breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_000_000)
    // Each test starts from an area that is up.
    for (const area of ['rate-limit', 'cache', 'state'] as const) setGatewayStoreConnected(area, true)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('skips a failed store for the interval, then lets exactly one probe through', async () => {
    const call = vi.fn(async () => {
      throw new Error('connection refused')
    })
    await expect(guardGatewayStoreCall('cache', call)).rejects.toThrow('connection refused')
    expect(call).toHaveBeenCalledTimes(1)
    expect(isGatewayStoreDown('cache')).toBe(true)
    // Within the interval: refused at once, the store is not called.
    for (let i = 0; i < 5; i++) await expect(guardGatewayStoreCall('cache', call)).rejects.toBeInstanceOf(GatewayStoreDownError)
    expect(call).toHaveBeenCalledTimes(1)
    // Other areas are not affected.
    expect(isGatewayStoreDown('state')).toBe(false)
    vi.setSystemTime(1_000_000 + 1000)
    // One probe goes through; callers while it runs are still refused.
    expect(mayCallGatewayStore('cache')).toBe(true)
    expect(mayCallGatewayStore('cache')).toBe(false)
  })

  it('is up again after a probe that works', async () => {
    noteGatewayStoreFailure('state')
    vi.setSystemTime(1_000_000 + 1500)
    await expect(guardGatewayStoreCall('state', async () => 'answer')).resolves.toBe('answer')
    expect(isGatewayStoreDown('state')).toBe(false)
    expect(mayCallGatewayStore('state')).toBe(true)
    expect(mayCallGatewayStore('state')).toBe(true)
  })

  it('skips a lost connection whatever the interval, until it is ready', async () => {
    setGatewayStoreConnected('rate-limit', false)
    vi.setSystemTime(1_000_000 + 60_000)
    expect(mayCallGatewayStore('rate-limit')).toBe(false)
    const call = vi.fn(async () => 1)
    await expect(guardGatewayStoreCall('rate-limit', call)).rejects.toBeInstanceOf(GatewayStoreDownError)
    expect(call).not.toHaveBeenCalled()
    setGatewayStoreConnected('rate-limit', true)
    await expect(guardGatewayStoreCall('rate-limit', call)).resolves.toBe(1)
  })
})
