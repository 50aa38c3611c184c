import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findLeaks, GENEROUS_LIMITS, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'
import { sleep } from '../support/wait'

// The per-instance guard in front of Cockpit, on the built server against the emulator over HTTP: the
// circuit breaker (fail fast while Cockpit is down, public reads served stale, one probe closes it) and the
// concurrency cap (503 UPSTREAM_BUSY beyond the queue, never more calls in flight than the cap).

const LIST = '/api/cockpit/items/posts'
const listCalls = (gateway: RunningGateway) => gateway.emulator.requests.filter(r => r.path === '/api/content/items/posts').length

describe('circuit breaker (v2)', () => {
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    gateway = await startGateway({ version: 2, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_BREAKER_THRESHOLD: '3', NUXT_COCKPIT_BREAKER_COOL_DOWN: '1500', NUXT_COCKPIT_GATEWAY_CACHE_MAX_AGE: '1' } })
  })
  afterAll(async () => {
    await gateway?.stop()
  })

  it('opens after repeated failures: writers fail fast without calling Cockpit, public reads are served stale, one probe closes it', async () => {
    const anon = new TestBrowser(gateway, exchanges)
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    const cached = await anon.request(LIST)
    expect(cached.status).toBe(200)
    await sleep(1100)

    gateway.emulator.setFault({ kind: 'down' })
    try {
      // Each uncached read tries twice (one retry): two reads are four failures, past the threshold of 3.
      for (let i = 0; i < 2; i++) {
        const failed = await editor.request(LIST)
        expect(failed.status).toBe(503)
        expect(failed.json().data.code).toBe('UPSTREAM_UNAVAILABLE')
      }
      gateway.emulator.clearRequests()
      for (let i = 0; i < 10; i++) {
        const fast = await editor.request(LIST)
        expect(fast.status).toBe(503)
        expect(fast.json()).toEqual({ statusCode: 503, statusMessage: 'Upstream unavailable', data: { code: 'UPSTREAM_CIRCUIT_OPEN', retryAfter: expect.any(Number) } })
        expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
        expect(Number(fast.headers.get('retry-after'))).toBeLessThanOrEqual(2)
      }
      expect(gateway.emulator.requests).toHaveLength(0)
      const stale = await anon.request(LIST)
      expect(stale.status).toBe(200)
      expect(stale.headers.get('x-cockpit-gateway-cache')).toMatch(/^stale(-error)?$/)
      expect(stale.text).toBe(cached.text)
    }
    finally {
      gateway.emulator.setFault(null)
    }

    // Back after the cool-down, on its own: the first call is the probe.
    let status = 0
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline) {
      status = (await editor.request(LIST)).status
      if (status === 200) break
      await sleep(200)
    }
    expect(status).toBe(200)
    const logs = gateway.logs.join('')
    expect(logs.match(/upstream circuit open/g)).toHaveLength(1)
    expect(logs.match(/upstream circuit closed/g)).toHaveLength(1)
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
  })
})

describe('concurrency cap (v2)', () => {
  let gateway: RunningGateway

  beforeAll(async () => {
    gateway = await startGateway({ version: 2, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_MAX_CONCURRENT: '2', NUXT_COCKPIT_QUEUE_SIZE: '1', NUXT_COCKPIT_QUEUE_TIMEOUT: '300', NUXT_COCKPIT_TIMEOUT: '8000' } })
  })
  afterAll(async () => {
    await gateway?.stop()
  })

  it('never has more than the cap in flight; beyond the queue, and past its wait, 503 UPSTREAM_BUSY with Retry-After: 1', async () => {
    const editor = new TestBrowser(gateway)
    await editor.login('editor', 'editor-pass-123')
    gateway.emulator.clearRequests()
    gateway.emulator.setFault({ kind: 'delay', ms: 3000 })
    let answers: Awaited<ReturnType<TestBrowser['request']>>[]
    try {
      answers = await Promise.all(Array.from({ length: 6 }, () => editor.request(LIST)))
    }
    finally {
      gateway.emulator.setFault(null)
    }
    const statuses = answers.map(answer => answer.status).sort()
    expect(statuses).toEqual([200, 200, 503, 503, 503, 503])
    for (const busy of answers.filter(answer => answer.status === 503)) {
      expect(busy.json()).toEqual({ statusCode: 503, statusMessage: 'Upstream busy', data: { code: 'UPSTREAM_BUSY', retryAfter: 1 } })
      expect(busy.headers.get('retry-after')).toBe('1')
    }
    expect(listCalls(gateway)).toBe(2)
    expect(gateway.logs.join('').match(/upstream busy/g)).toHaveLength(1)
    // Slots are given back: the next read goes through.
    expect((await editor.request(LIST)).status).toBe(200)
  })
})
