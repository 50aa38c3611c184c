import { getRandomPort } from 'get-port-please'
import { defaults, seal, unseal } from 'iron-webcrypto'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestRedis } from '../support/test-redis'
import { eventually, median, sleep } from '../support/wait'
import { findLeaks, GENEROUS_LIMITS, startGateway, TEST_SESSION_PASSWORD, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

const LIST = '/api/cockpit/items/posts'
const LIVE = '/api/cockpit/health/live'
const READY = '/api/cockpit/health/ready'
const HEALTHCHECK = '/api/system/healthcheck'
const COOKIE = '__Host-cockpit-session'

/** A second browser holding a copy of `source`'s cookies (a stolen or backed-up cookie). */
async function sessionRole(browser: TestBrowser): Promise<string | undefined> {
  const response = await browser.request('/api/_auth/session')
  expect(response.status).toBe(200)
  return response.json().user?.role
}

describe('state loss: a store that comes back empty revives no revoked session', () => {
  let redis: TestRedis
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    redis = new TestRedis(await getRandomPort('127.0.0.1'))
    expect(await redis.start(5000)).toBe(true)
    // Interval 0: every check reads the store, so the test sees the store's state, not this instance's memory.
    gateway = await startGateway({ version: 2, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_REDIS_URL: redis.url, NUXT_COCKPIT_GATEWAY_AUTH_REVOCATION_CHECK_INTERVAL: '0' } })
  })
  afterAll(async () => {
    await gateway?.stop()
    await redis?.dispose()
  })

  it('keeps a cookie revoked by logout-everywhere refused after FLUSHALL and after a restart; fresh logins work', async () => {
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    const stolen = editor.copy()
    const bystander = new TestBrowser(gateway, exchanges)
    await bystander.login('guest', 'guest-pass-123')
    expect(await sessionRole(stolen.copy())).toBe('editor')
    expect((await editor.request('/api/auth/logout-all', { json: {} })).status).toBe(204)
    expect(await sessionRole(stolen.copy())).toBeUndefined()

    // The store loses everything, as a Redis restart without persistence or a failover to an empty replica would.
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 })
    try {
      await client.flushall()
    }
    finally {
      client.disconnect()
    }
    // The revoked cookie stays refused (it would match the reset version 0 without the epoch).
    const replay = stolen.copy()
    const refused = await replay.request(LIST, { json: { title: 'Written with a revoked cookie', published: true } })
    expect(refused.status).toBe(401)
    expect(refused.json().data.code).toBe('SESSION_EXPIRED')
    expect(await sessionRole(stolen.copy())).toBeUndefined()
    // Fail closed: a session that was never revoked cannot be told apart, so it ends too.
    expect(await sessionRole(bystander)).toBeUndefined()
    // A fresh login works and keeps working.
    const fresh = new TestBrowser(gateway, exchanges)
    await fresh.login('editor', 'editor-pass-123')
    expect(await sessionRole(fresh)).toBe('editor')
    expect(await sessionRole(fresh)).toBe('editor')
    const afterFlush = fresh.copy()

    // A real restart of the non-persistent Redis under the running gateway.
    await redis.stop()
    expect(await redis.start(5000)).toBe(true)
    expect(await eventually(async () => (await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'guest', password: 'guest-pass-123' } })).status === 200)).toBe(true)
    expect(await sessionRole(stolen.copy())).toBeUndefined()
    expect(await sessionRole(afterFlush)).toBeUndefined()
    const again = new TestBrowser(gateway, exchanges)
    await again.login('editor', 'editor-pass-123')
    expect(await sessionRole(again)).toBe('editor')
    const created = await again.request(LIST, { json: { title: 'Written after the restart', published: true } })
    expect(created.status).toBe(201)
  })

  it('refuses a session sealed before epochs existed (no epoch in the cookie), and accepts the same one with it', async () => {
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    const session = await unseal(globalThis.crypto, decodeURIComponent(editor.cookies.get(COOKIE)!), TEST_SESSION_PASSWORD, defaults) as { data: Record<string, unknown> }
    expect(typeof session.data.epoch).toBe('string')
    const resealed = (data: Record<string, unknown>) => seal(globalThis.crypto, { ...session, data }, TEST_SESSION_PASSWORD, defaults)
    const withEpoch = new TestBrowser(gateway, exchanges)
    withEpoch.cookies.set(COOKIE, await resealed(session.data))
    expect(await sessionRole(withEpoch)).toBe('editor')
    const { epoch: _epoch, ...withoutEpoch } = session.data
    const old = new TestBrowser(gateway, exchanges)
    old.cookies.set(COOKIE, await resealed(withoutEpoch))
    const refused = await old.request(LIST, { json: { title: 'Written with an epochless cookie', published: true } })
    expect(refused.status).toBe(401)
    expect(refused.json().data.code).toBe('SESSION_EXPIRED')
  })

  it('leaks nothing through the losses', () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    expect(gateway.logs.join('')).not.toMatch(/^\s+at\s/m)
  })
})

describe('two instances sharing Redis: a session newer than an instance\'s cached state is checked again, not ended', () => {
  let redis: TestRedis
  let a: RunningGateway
  let b: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    redis = new TestRedis(await getRandomPort('127.0.0.1'))
    expect(await redis.start(5000)).toBe(true)
    // The longest trust in cached state (1 s), so instance B still holds what it read when the new cookie arrives.
    const env = { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_REDIS_URL: redis.url, NUXT_COCKPIT_GATEWAY_AUTH_REVOCATION_CHECK_INTERVAL: '1000' }
    a = await startGateway({ version: 2, env })
    b = await startGateway({ version: 2, env, emulator: a.emulator })
  })
  afterAll(async () => {
    await b?.stop()
    await a?.stop()
    await redis?.dispose()
  })

  /** The same cookies sent to the other instance (a load balancer's next pick). */
  function onB(browser: TestBrowser): TestBrowser {
    return browser.copy(b)
  }

  it('accepts a login made on A after a logout-everywhere, and after a state loss, at once on B', async () => {
    const first = new TestBrowser(a, exchanges)
    await first.login('editor', 'editor-pass-123')
    // B reads and caches the editor's state (version, epoch).
    expect(await sessionRole(onB(first))).toBe('editor')
    expect((await first.request('/api/auth/logout-all', { json: {} })).status).toBe(204)
    const second = new TestBrowser(a, exchanges)
    await second.login('editor', 'editor-pass-123')
    // B's cached version is older than this session: it looks again instead of ending it.
    expect(await sessionRole(onB(second))).toBe('editor')

    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 })
    try {
      await client.flushall()
    }
    finally {
      client.disconnect()
    }
    const third = new TestBrowser(a, exchanges)
    await third.login('editor', 'editor-pass-123')
    expect(await sessionRole(onB(third))).toBe('editor')
    // And the session from before the loss is ended on both.
    expect(await eventually(async () => (await sessionRole(onB(second))) === undefined, 5000)).toBe(true)
    expect(await sessionRole(second.copy())).toBeUndefined()
  })
})

describe('store outage: the gateway stops waiting on a dead Redis', () => {
  let redis: TestRedis
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    redis = new TestRedis(await getRandomPort('127.0.0.1'))
    expect(await redis.start(5000)).toBe(true)
    gateway = await startGateway({ version: 2, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_REDIS_URL: redis.url, NUXT_COCKPIT_GATEWAY_STORE_RETRY_INTERVAL: '2000' } })
  })
  afterAll(async () => {
    await gateway?.stop()
    await redis?.dispose()
  })

  async function timedRead(browser: TestBrowser): Promise<{ ms: number, status: number, limited: boolean }> {
    const started = performance.now()
    const response = await browser.request(LIST)
    return { ms: performance.now() - started, status: response.status, limited: response.headers.get('ratelimit') !== null }
  }

  it('keeps public reads at their healthy latency, fails logins and writes at once, reports not ready, and recovers', async () => {
    const anon = new TestBrowser(gateway, exchanges)
    const editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    expect((await anon.request(READY)).status).toBe(200)
    for (let i = 0; i < 5; i++) expect((await anon.request(LIST)).status).toBe(200)
    const healthy: number[] = []
    for (let i = 0; i < 31; i++) {
      const read = await timedRead(anon)
      expect(read.status).toBe(200)
      expect(read.limited).toBe(true)
      healthy.push(read.ms)
    }

    await redis.stop()
    // Readiness sees the outage (its answer is reused for 2 s at most).
    expect(await eventually(async () => (await anon.request(READY)).status === 503)).toBe(true)
    const notReady = await anon.request(READY)
    expect(notReady.json()).toEqual({ status: 'unavailable' })
    expect(notReady.headers.get('cache-control')).toBe('no-store')

    const down: number[] = []
    for (let i = 0; i < 31; i++) {
      const read = await timedRead(anon)
      expect(read.status).toBe(200)
      // Not counted: the read policy fails open.
      expect(read.limited).toBe(false)
      down.push(read.ms)
    }
    // Before the breaker each of these waited for ioredis' reconnect (a median of 1.4 s per read was measured).
    expect(median(down)).toBeLessThanOrEqual(2 * median(healthy))

    const logins: number[] = []
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      const login = await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
      logins.push(performance.now() - started)
      expect(login.status).toBe(503)
      expect(login.json().data.code).toBe('RATE_LIMIT_UNAVAILABLE')
    }
    // Generous: the old path waited for a reconnect attempt (about 1 s and more) on every login.
    expect(median(logins)).toBeLessThan(500)

    // Past the revocation check interval, so the editor's session needs the store: refused at once, nothing written.
    await sleep(1100)
    gateway.emulator.clearRequests()
    const writes: number[] = []
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      const write = await editor.request(LIST, { json: { title: 'Written while Redis is down', published: true } })
      writes.push(performance.now() - started)
      expect(write.status).toBe(503)
      expect(write.json().data.code).toBe('SESSION_STORE_UNAVAILABLE')
    }
    expect(median(writes)).toBeLessThan(500)
    expect(gateway.emulator.requests.filter(r => r.method !== 'GET')).toEqual([])

    // Back without a restart of the gateway: limits, logins, writes and readiness.
    expect(await redis.start(5000)).toBe(true)
    expect(await eventually(async () => (await timedRead(anon)).limited)).toBe(true)
    expect(await eventually(async () => (await anon.request(READY)).status === 200)).toBe(true)
    const again = new TestBrowser(gateway, exchanges)
    expect(await eventually(async () => (await again.request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })).status === 200)).toBe(true)
    const created = await again.request(LIST, { json: { title: 'Written after Redis came back', published: true } })
    expect(created.status).toBe(201)
  })

  it('leaks nothing and logs no stacks through the outage', () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    const logs = gateway.logs.join('')
    expect(logs).not.toMatch(/^\s+at\s/m)
    expect(logs).not.toContain('Unhandled error event')
  })
})

describe('health endpoints', () => {
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    gateway = await startGateway({ version: 2, env: GENEROUS_LIMITS })
  })
  afterAll(async () => {
    gateway?.emulator.setFault(null)
    await gateway?.stop()
  })

  it('answers liveness without any dependency, never cached', async () => {
    const browser = new TestBrowser(gateway, exchanges)
    gateway.emulator.setFault({ kind: 'down' })
    try {
      gateway.emulator.clearRequests()
      const live = await browser.request(LIVE)
      expect(live.status).toBe(200)
      expect(live.json()).toEqual({ status: 'ok' })
      expect(live.headers.get('cache-control')).toBe('no-store')
      expect(live.headers.get('ratelimit')).toBeNull()
      expect(gateway.emulator.requests).toEqual([])
    }
    finally {
      gateway.emulator.setFault(null)
    }
  })

  it('answers readiness from a short cache: 100 concurrent probes make at most a couple of health calls', async () => {
    const browser = new TestBrowser(gateway, exchanges)
    await sleep(2100)
    gateway.emulator.clearRequests()
    const answers = await Promise.all(Array.from({ length: 100 }, () => fetch(`${gateway.url}${READY}`, { signal: AbortSignal.timeout(30_000) }).then(async r => ({ status: r.status, body: await r.json(), cache: r.headers.get('cache-control') }))))
    expect(answers.every(a => a.status === 200)).toBe(true)
    expect(answers.every(a => JSON.stringify(a.body) === '{"status":"ok"}' && a.cache === 'no-store')).toBe(true)
    const calls = gateway.emulator.requests.filter(r => r.path === HEALTHCHECK).length
    expect(calls).toBeGreaterThanOrEqual(1)
    expect(calls).toBeLessThanOrEqual(2)
    // Not rate limited.
    expect((await browser.request(READY)).headers.get('ratelimit')).toBeNull()
  })

  it('reports Cockpit down as not ready, with no detail, and ready again when it is back', async () => {
    const browser = new TestBrowser(gateway, exchanges)
    gateway.emulator.setFault({ kind: 'down' })
    try {
      expect(await eventually(async () => (await browser.request(READY)).status === 503)).toBe(true)
      const answer = await browser.request(READY)
      expect(answer.text).toBe('{"status":"unavailable"}')
    }
    finally {
      gateway.emulator.setFault(null)
    }
    expect(await eventually(async () => (await browser.request(READY)).status === 200)).toBe(true)
  })

  it('answers other methods with 405 and Allow: GET', async () => {
    const browser = new TestBrowser(gateway, exchanges)
    for (const path of [LIVE, READY]) {
      const response = await browser.request(path, { method: 'POST', json: {} })
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('GET')
      expect(response.json().data.code).toBe('METHOD_NOT_ALLOWED')
    }
  })

  it('leaks nothing', () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
  })
})

describe('health endpoints on Cockpit v1 (no health endpoint of its own)', () => {
  let gateway: RunningGateway

  beforeAll(async () => {
    gateway = await startGateway({ version: 1, env: GENEROUS_LIMITS })
  })
  afterAll(async () => {
    gateway?.emulator.setFault(null)
    await gateway?.stop()
  })

  it('is ready while the v1 API answers, and not ready while it is down', async () => {
    const browser = new TestBrowser(gateway)
    const ready = await browser.request(READY)
    expect(ready.status).toBe(200)
    expect(ready.json()).toEqual({ status: 'ok' })
    // The keyless probe call carries no key.
    const probe = gateway.emulator.requests.find(r => r.path === '/api/collections/listCollections')
    expect(probe).toBeDefined()
    expect(probe!.headers['cockpit-token']).toBeUndefined()
    gateway.emulator.setFault({ kind: 'down' })
    try {
      expect(await eventually(async () => (await browser.request(READY)).status === 503)).toBe(true)
    }
    finally {
      gateway.emulator.setFault(null)
    }
    expect(await eventually(async () => (await browser.request(READY)).status === 200)).toBe(true)
  })
})
