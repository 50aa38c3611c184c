import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator } from '../../emulator/index'
import { startFaultProxy } from '../support/fault-proxy'
import type { FaultMode, FaultProxy } from '../support/fault-proxy'
import { findLeaks, GENEROUS_LIMITS, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'
import { sleep } from '../support/wait'

// Network faults between the built gateway and the emulator, made by a real TCP proxy (tests/support/
// fault-proxy.ts): refused connections, a stall, a reset mid-body, garbage bytes, a slow drip. Per fault: only
// the documented codes, fast; public reads served stale; logins and writes fail closed; then recovery on its
// own, with no crash, no unhandled rejection and no leak in any answer or log line.

const LIST = '/api/cockpit/items/posts'

/** The codes each fault may answer with: 503 for no usable connection, 504 for no answer in time. */
const EXPECTED: Record<Exclude<FaultMode, 'pass' | 'down'>, string[]> = {
  refuse: ['UPSTREAM_UNAVAILABLE'],
  stall: ['UPSTREAM_TIMEOUT'],
  reset: ['UPSTREAM_UNAVAILABLE'],
  garbage: ['UPSTREAM_UNAVAILABLE'],
  drip: ['UPSTREAM_TIMEOUT'],
}

describe.each([2, 1] as const)('Cockpit v%i behind a faulty network', (version) => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>
  let proxy: FaultProxy
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    emulator = await startEmulator({ version, port: 0 })
    proxy = await startFaultProxy(emulator.url)
    gateway = await startGateway({
      version,
      emulator,
      env: {
        ...GENEROUS_LIMITS,
        NUXT_COCKPIT_URL: proxy.url,
        // Long enough for the emulator's bcrypt on a loaded machine; a stall or drip outlasts any bound.
        NUXT_COCKPIT_TIMEOUT: '2000',
        NUXT_COCKPIT_GATEWAY_CACHE_MAX_AGE: '1',
        // Each fault's own code is what is checked here; the breaker has its own test.
        NUXT_COCKPIT_BREAKER_THRESHOLD: '0',
      },
    })
  })
  afterAll(async () => {
    await gateway?.stop()
    await proxy?.close()
    await emulator?.close()
  })

  it.each(['refuse', 'stall', 'reset', 'garbage', 'drip'] as const)('%s: documented codes only, stale public reads, fail-closed writes and logins, then recovery', async (mode) => {
    const anon = new TestBrowser(gateway, exchanges)
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    const cached = await anon.request(LIST)
    expect(cached.status).toBe(200)
    await sleep(1100)

    proxy.setMode(mode)
    try {
      const stale = await anon.request(LIST)
      expect(stale.status).toBe(200)
      expect(stale.text).toBe(cached.text)

      const read = await editor.request(LIST)
      expect(read.status).toBeGreaterThanOrEqual(503)
      expect(EXPECTED[mode], `read: ${read.text}`).toContain(read.json().data.code)

      const write = await editor.request(LIST, { json: { title: `during ${mode}`, published: false } })
      expect([503, 504]).toContain(write.status)
      expect(EXPECTED[mode], `write: ${write.text}`).toContain(write.json().data.code)

      const login = await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
      expect([503, 504]).toContain(login.status)
      expect(login.setCookies.filter(cookie => /cockpit-session=[^;]/.test(cookie))).toEqual([])
    }
    finally {
      proxy.setMode('pass')
    }

    // Recovery without a restart: every kind of call works again.
    const deadline = Date.now() + 10_000
    let back = 0
    while (Date.now() < deadline && back !== 200) {
      back = (await editor.request(LIST)).status
      if (back !== 200) await sleep(100)
    }
    expect(back).toBe(200)
    expect((await editor.request(LIST, { json: { title: `after ${mode}`, published: false } })).status).toBe(201)
    await new TestBrowser(gateway, exchanges).login('editor', 'editor-pass-123')
    expect((await anon.request('/api/cockpit/health/live')).status).toBe(200)
  })

  it('a create whose connection was refused gives its Idempotency-Key back; one cut after it was sent keeps it', async () => {
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    const creates = () => emulator.requests.filter(request => request.method === 'POST' && request.body?.includes('key given back')).length
    const create = (key: string) => editor.request(LIST, { json: { title: `key given back v${version}`, published: false }, headers: { 'idempotency-key': key } })

    const refusedKey = `refused-${version}-${Date.now()}`
    await proxy.setMode('down')
    try {
      const refused = await create(refusedKey)
      expect(refused.status, refused.text).toBe(503)
      expect(refused.json().data.code).toBe('UPSTREAM_UNAVAILABLE')
    }
    finally {
      await proxy.setMode('pass')
    }
    expect(creates()).toBe(0)
    const retried = await create(refusedKey)
    expect(retried.status, retried.text).toBe(201)
    expect(retried.headers.get('idempotent-replayed')).toBeNull()
    const replayed = await create(refusedKey)
    expect(replayed.status).toBe(201)
    expect(replayed.headers.get('idempotent-replayed')).toBe('true')
    expect(creates()).toBe(1)

    // Reset after the request went out: Cockpit may have stored it, so the key stays spent.
    const cutKey = `cut-${version}-${Date.now()}`
    await proxy.setMode('reset')
    try {
      expect((await create(cutKey)).status).toBe(503)
    }
    finally {
      await proxy.setMode('pass')
    }
    expect(creates()).toBe(2)
    const unknown = await create(cutKey)
    expect(unknown.status, unknown.text).toBe(409)
    expect(unknown.json().data.code).toBe('IDEMPOTENCY_OUTCOME_UNKNOWN')
    expect(creates()).toBe(2)
  })

  it('no crash, no unhandled rejection, no stack and no leak in any answer or log line', () => {
    const logs = gateway.logs.join('')
    expect(logs).not.toMatch(/unhandled|uncaught|\n\s+at /i)
    expect(findLeaks([...gateway.secrets, emulator.url, proxy.url], exchanges, gateway.logs)).toEqual([])
  })
})
