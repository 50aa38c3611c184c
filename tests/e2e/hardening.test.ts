import { request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { randomInt } from 'node:crypto'
import { getRandomPort } from 'get-port-please'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { TestRedis } from '../support/test-redis'
import { findLeaks, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '100000',
}
// The emulator runs in this test process, which the bursts below keep busy: give its answers time.
const PATIENT_UPSTREAM = { NUXT_COCKPIT_TIMEOUT: '30000' }
const EXTRA_ORIGIN = 'https://admin.example.test'
const BODY_LIMIT = 64 * 1024
const LIST = '/api/cockpit/items/posts'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const randomIp = () => `${randomInt(1, 224)}.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`

/** A request written by hand, for what fetch won't send: a chunked body without Content-Length, or a Content-Length that lies. */
function rawRequest(url: string, options: { method: string, headers: Record<string, string>, chunks: string[] }): Promise<{ status: number, headers: IncomingHttpHeaders, text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      res.on('error', reject)
    })
    // The server may answer (413) and close before the whole body is written: only the answer matters.
    req.on('error', reject)
    req.setTimeout(15_000, () => req.destroy(new Error('raw request timed out')))
    for (const chunk of options.chunks) req.write(chunk)
    req.end()
  })
}

/** Fires `count` GETs at once (each bounded in time) and returns their status and headers. */
async function burst(urls: string[], headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, body: string }[]> {
  return Promise.all(urls.map(async (url) => {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) })
    return { status: response.status, headers: response.headers, body: await response.text() }
  }))
}

function countStatuses(answers: { status: number }[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

function countLines(logs: string[], pattern: RegExp): number {
  return logs.join('').split('\n').filter(line => pattern.test(line)).length
}

describe('same-origin writes, bodies and headers', () => {
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []
  let editor: TestBrowser
  let ownId: string

  beforeAll(async () => {
    gateway = await startGateway({ version: 2, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_SITE_ORIGINS: EXTRA_ORIGIN } })
    editor = new TestBrowser(gateway, exchanges)
    await editor.login('editor', 'editor-pass-123')
    const created = await editor.request(LIST, { json: { title: 'Hardening target', published: true } })
    expect(created.status).toBe(201)
    ownId = created.json()._id
  })
  afterAll(async () => {
    await gateway?.stop()
  })

  const upstreamWrites = () => gateway.emulator.requests.filter(r => r.method !== 'GET')

  it('refuses cross-origin POST, PATCH and DELETE with 403 ORIGIN_MISMATCH before Cockpit', async () => {
    const evil = ['https://evil.example', 'null', `http://127.0.0.1:${gateway.port + 1}`, `http://localhost:${gateway.port}`, `https://127.0.0.1:${gateway.port}`, `${gateway.origin}.evil.example`]
    gateway.emulator.clearRequests()
    for (const origin of evil) {
      for (const [path, init] of [
        [LIST, { json: { title: 'Cross-site', published: true } }],
        [`${LIST}/${ownId}`, { method: 'PATCH', json: { title: 'Cross-site' } }],
        [`${LIST}/${ownId}`, { method: 'DELETE' }],
        ['/api/auth/logout-all', { json: {} }],
      ] as const) {
        const response = await editor.request(path, { ...init, origin })
        expect(response.status, `${origin} ${path}`).toBe(403)
        expect(response.json().data.code).toBe('ORIGIN_MISMATCH')
      }
    }
    expect(gateway.emulator.requests).toEqual([])
    expect((await editor.request(`${LIST}/${ownId}`)).json().title).toBe('Hardening target')
  })

  it('needs Origin or Sec-Fetch-Site: same-origin', async () => {
    gateway.emulator.clearRequests()
    const none = await editor.request(LIST, { json: { title: 'No origin', published: true }, origin: null })
    expect(none.status).toBe(403)
    expect(none.json().data.code).toBe('ORIGIN_REQUIRED')
    expect((await editor.request(`${LIST}/${ownId}`, { method: 'DELETE', origin: null })).json().data.code).toBe('ORIGIN_REQUIRED')
    for (const site of ['cross-site', 'same-site', 'none']) {
      const response = await editor.request(LIST, { json: { title: 'Fetch metadata', published: true }, origin: null, headers: { 'sec-fetch-site': site } })
      expect(response.status, site).toBe(403)
      expect(response.json().data.code).toBe('ORIGIN_MISMATCH')
    }
    // A cross-site Origin is refused even with a same-origin Sec-Fetch-Site beside it.
    expect((await editor.request(LIST, { json: { title: 'Mixed', published: true }, origin: 'https://evil.example', headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(403)
    expect(upstreamWrites()).toEqual([])

    const sameOrigin = await editor.request(LIST, { json: { title: 'Fetch metadata only', published: true }, origin: null, headers: { 'sec-fetch-site': 'same-origin' } })
    expect(sameOrigin.status).toBe(201)
    const removed = await editor.request(`${LIST}/${sameOrigin.json()._id}`, { method: 'DELETE', origin: null, headers: { 'sec-fetch-site': 'same-origin' } })
    expect(removed.status).toBe(204)
  })

  it('refuses a same-origin write that is not JSON with 415', async () => {
    gateway.emulator.clearRequests()
    const bodies: [string, string][] = [
      ['text/plain', JSON.stringify({ title: 'Simple request', published: true })],
      ['text/plain;charset=UTF-8', JSON.stringify({ title: 'Simple request', published: true })],
      ['application/x-www-form-urlencoded', 'title=Form&published=true'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nForm\r\n--x--\r\n'],
    ]
    for (const [contentType, body] of bodies) {
      for (const [method, path] of [['POST', LIST], ['PATCH', `${LIST}/${ownId}`]]) {
        const response = await editor.request(path, { method, body, headers: { 'content-type': contentType } })
        expect(response.status, `${method} ${contentType}`).toBe(415)
        expect(response.json().data.code).toBe('UNSUPPORTED_MEDIA_TYPE')
      }
    }
    const untyped = await editor.request(LIST, { method: 'POST', body: '{"title":"x","published":true}' })
    expect(untyped.status).toBe(415)
    expect(upstreamWrites()).toEqual([])
  })

  it('accepts an origin listed in NUXT_COCKPIT_GATEWAY_SITE_ORIGINS', async () => {
    const created = await editor.request(LIST, { json: { title: 'From the admin origin', published: true }, origin: EXTRA_ORIGIN })
    expect(created.status).toBe(201)
    const patched = await editor.request(`${LIST}/${created.json()._id}`, { method: 'PATCH', json: { published: false }, origin: EXTRA_ORIGIN })
    expect(patched.status).toBe(200)
    expect((await editor.request(`${LIST}/${created.json()._id}`, { method: 'DELETE', origin: EXTRA_ORIGIN })).status).toBe(204)
    expect((await editor.request(LIST, { json: { title: 'x', published: true }, origin: `${EXTRA_ORIGIN}:8443` })).status).toBe(403)
  })

  it('refuses bodies over 64 KB with 413, whatever the Content-Length says', async () => {
    gateway.emulator.clearRequests()
    const big = JSON.stringify({ title: 'Big', published: true, body: 'a'.repeat(BODY_LIMIT) })
    const declared = await editor.request(LIST, { body: big, headers: { 'content-type': 'application/json' } })
    expect(declared.status).toBe(413)
    expect(declared.json().data.code).toBe('PAYLOAD_TOO_LARGE')
    expect((await editor.request(`${LIST}/${ownId}`, { method: 'PATCH', body: big, headers: { 'content-type': 'application/json' } })).status).toBe(413)

    const headers = { 'content-type': 'application/json', 'origin': gateway.origin, 'cookie': editor.cookieHeader() }
    // No Content-Length at all: chunked.
    const chunks = [`{"title":"Chunked","published":true,"body":"`, ...Array<string>(10).fill('b'.repeat(8 * 1024)), '"}']
    const chunked = await rawRequest(`${gateway.url}${LIST}`, { method: 'POST', headers, chunks })
    expect(chunked.status).toBe(413)
    expect(JSON.parse(chunked.text).data.code).toBe('PAYLOAD_TOO_LARGE')
    // A Content-Length that claims more than the limit is refused without waiting for the body.
    const claimed = await rawRequest(`${gateway.url}${LIST}`, { method: 'POST', headers: { ...headers, 'content-length': String(10 * 1024 * 1024) }, chunks: ['{"title":"Claims a lot"'] })
    expect(claimed.status).toBe(413)
    expect(upstreamWrites()).toEqual([])

    // Just under the limit, the body is read and validated (the schema caps `body` at 20 000 characters).
    const near = await editor.request(LIST, { json: { title: 'Near the limit', published: true, body: 'c'.repeat(60_000) } })
    expect(near.status).toBe(422)
    expect(near.json().data.code).toBe('VALIDATION_FAILED')
  })

  it('sets nosniff, a frame-ancestors CSP and no-store on API responses; pages are still HTML', async () => {
    const anon = new TestBrowser(gateway, exchanges)
    const responses = {
      'public list': await anon.request(LIST),
      'public item': await anon.request(`${LIST}/${ownId}`),
      'private list': await editor.request(LIST),
      'private item': await editor.request(`${LIST}/${ownId}`),
      'error': await anon.request('/api/cockpit/nope'),
      'refused write': await anon.request(LIST, { json: { title: 'x', published: true } }),
      'session': await editor.request('/api/_auth/session'),
      'login': await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'guest', password: 'guest-pass-123' } }),
      'failed login': await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'guest', password: 'wrong-password' } }),
    }
    for (const [name, response] of Object.entries(responses)) {
      expect(response.headers.get('x-content-type-options'), name).toBe('nosniff')
      expect(response.headers.get('content-security-policy'), name).toMatch(/frame-ancestors 'none'/)
      expect(response.headers.get('content-type'), name).toMatch(/^application\/json/)
      expect(response.headers.get('cache-control'), name).toMatch(/no-store/)
      expect(response.headers.get('access-control-allow-origin'), name).toBeNull()
    }
    expect(responses.login.status).toBe(200)
    expect(responses.login.headers.get('cache-control')).toBe('no-store')
    expect(responses['private list'].headers.get('cache-control')).toBe('private, no-store')
    expect(responses['private item'].headers.get('cache-control')).toBe('private, no-store')

    for (const page of ['/', '/login']) {
      const html = await anon.request(page)
      expect(html.status, page).toBe(200)
      expect(html.headers.get('content-type'), page).toMatch(/^text\/html/)
      expect(html.text).toMatch(/<!DOCTYPE html>/i)
    }
  })

  it('leaks no key or secret in any response or log line', () => {
    expect(exchanges.length).toBeGreaterThan(40)
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    expect(gateway.logs.join('')).not.toMatch(/^\s+at\s/m)
  })
})

describe('rate limits on real processes', () => {
  it('admits exactly 100 of 500 concurrent reads on one instance (memory store)', async () => {
    const gateway = await startGateway({ version: 2, env: { ...PATIENT_UPSTREAM, NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_WINDOW: '3600' } })
    try {
      const started = Date.now()
      const answers = await burst(Array.from({ length: 500 }, () => `${gateway.url}${LIST}`))
      expect(Date.now() - started).toBeLessThan(60_000)
      expect(countStatuses(answers)).toEqual({ 200: 100, 429: 400 })
      const refused = answers.filter(a => a.status === 429)
      for (const answer of answers) {
        expect(answer.headers.get('ratelimit-policy')).toBe('"read";q=100;w=3600')
        expect(answer.headers.get('ratelimit')).toMatch(/^"read";r=\d+;t=\d+$/)
      }
      for (const answer of refused) {
        const retryAfter = Number(answer.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThan(0)
        expect(retryAfter).toBeLessThanOrEqual(36)
        expect(JSON.parse(answer.body)).toEqual({ statusCode: 429, statusMessage: 'Too many requests', data: { code: 'RATE_LIMITED', retryAfter } })
      }
      // The 429s were counted before any Cockpit call: only the admitted reads could reach it, and the cache took most.
      expect(gateway.emulator.requests.filter(r => r.path.startsWith('/api/content/')).length).toBeLessThanOrEqual(100)
    }
    finally {
      await gateway.stop()
    }
  })

  it('admits exactly 100 of 500 concurrent reads across two instances sharing Redis', async () => {
    const url = new URL(inject('redisUrl'))
    url.pathname = '/5'
    const redis = new Redis(url.href, { maxRetriesPerRequest: 1 })
    try {
      await redis.flushdb()
    }
    finally {
      redis.disconnect()
    }
    const env = { ...PATIENT_UPSTREAM, NUXT_COCKPIT_GATEWAY_REDIS_URL: url.href, NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_WINDOW: '3600' }
    const first = await startGateway({ version: 2, env })
    const second = await startGateway({ version: 2, env, emulator: first.emulator })
    try {
      const urls = Array.from({ length: 500 }, (_, i) => `${i % 2 ? second.url : first.url}${LIST}`)
      const started = Date.now()
      const answers = await burst(urls)
      expect(Date.now() - started).toBeLessThan(60_000)
      expect(countStatuses(answers)).toEqual({ 200: 100, 429: 400 })
      // Each instance saw 250 requests; without the shared store each would have admitted 100.
      for (const [name, instance] of [['first', first], ['second', second]] as const) {
        const mine = answers.filter((_, i) => urls[i]!.startsWith(instance.url))
        expect(mine.filter(a => a.status === 429).length, name).toBeGreaterThanOrEqual(150)
        expect(instance.logs.join(''), name).toContain('storage: Redis')
        // A healthy Redis must not look down under the burst (a fail-open read policy would let it through).
        expect(instance.logs.join(''), name).not.toContain('rate-limit store unavailable')
      }
    }
    finally {
      await second.stop()
      await first.stop()
    }
  })

  describe('client IP behind proxies (limit 3)', () => {
    let direct: RunningGateway
    let proxied: RunningGateway
    const env = { NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '3', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_WINDOW: '3600' }

    beforeAll(async () => {
      [direct, proxied] = await Promise.all([
        startGateway({ version: 2, env }),
        startGateway({ version: 2, env: { ...env, NUXT_COCKPIT_GATEWAY_TRUST_PROXY: '1' } }),
      ])
    })
    afterAll(async () => {
      await Promise.all([direct?.stop(), proxied?.stop()])
    })

    it('ignores a spoofed X-Forwarded-For when trustProxy is off', async () => {
      const browser = new TestBrowser(direct)
      for (let i = 0; i < 3; i++) expect((await browser.request(LIST, { headers: { 'x-forwarded-for': randomIp() } })).status).toBe(200)
      for (let i = 0; i < 3; i++) {
        const response = await browser.request(LIST, { headers: { 'x-forwarded-for': randomIp(), 'x-real-ip': randomIp(), 'cf-connecting-ip': randomIp() } })
        expect(response.status).toBe(429)
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
      }
    })

    it('keys on the rightmost X-Forwarded-For entry with one trusted proxy', async () => {
      const browser = new TestBrowser(proxied)
      const client = '203.0.113.7'
      for (let i = 0; i < 3; i++) expect((await browser.request(LIST, { headers: { 'x-forwarded-for': `${randomIp()}, ${client}` } })).status).toBe(200)
      // Whatever the client prepends, the entry its proxy appended is the key.
      expect((await browser.request(LIST, { headers: { 'x-forwarded-for': client } })).status).toBe(429)
      expect((await browser.request(LIST, { headers: { 'x-forwarded-for': `${randomIp()}, ${randomIp()}, ${client}` } })).status).toBe(429)
      // Another client behind the same proxy has its own bucket, and so has the socket address itself.
      expect((await browser.request(LIST, { headers: { 'x-forwarded-for': `${client}, 203.0.113.8` } })).status).toBe(200)
      expect((await browser.request(LIST)).status).toBe(200)
    })
  })

  describe('Redis stopped and restarted under a running server', () => {
    let redis: TestRedis
    let gateway: RunningGateway
    const exchanges: RecordedExchange[] = []

    async function startRedis(): Promise<void> {
      await redis.start(5000)
      expect(await redis.answers()).toBe(true)
    }

    beforeAll(async () => {
      redis = new TestRedis(await getRandomPort('127.0.0.1'))
      await startRedis()
      gateway = await startGateway({ version: 2, env: { NUXT_COCKPIT_GATEWAY_REDIS_URL: redis.url, NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '40', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_WINDOW: '3600' } })
    })
    afterAll(async () => {
      await gateway?.stop()
      await redis?.dispose()
    })

    it('fails open for public reads and closed for logins, logs once per policy, and recovers', async () => {
      const anon = new TestBrowser(gateway, exchanges)
      const editor = new TestBrowser(gateway, exchanges)
      await editor.login('editor', 'editor-pass-123')
      const before = await anon.request(LIST)
      expect(before.status).toBe(200)
      expect(before.headers.get('ratelimit-policy')).toBe('"read";q=40;w=3600')

      await redis.stop()
      for (let i = 0; i < 4; i++) {
        const read = await anon.request(LIST)
        expect(read.status).toBe(200)
        // No store, so no count; the cache is this instance's hot copy until the store is back (the read
        // that finds the outage first, if any, goes to Cockpit uncached).
        expect(read.headers.get('ratelimit')).toBeNull()
        expect(['hit', 'bypass']).toContain(read.headers.get('x-cockpit-gateway-cache'))
        expect(read.json().items.map((item: { title: string }) => item.title)).toContain('Hello Cockpit')
      }
      for (let i = 0; i < 3; i++) {
        const login = await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
        expect(login.status).toBe(503)
        expect(login.json()).toEqual({ statusCode: 503, statusMessage: 'Service unavailable', data: { code: 'RATE_LIMIT_UNAVAILABLE' } })
      }
      // The session's revocation state lives on Redis too: a logged-in write cannot be checked, so it is refused
      // (once the state read at login is older than the revocation check interval, 1 s by default).
      await sleep(1100)
      gateway.emulator.clearRequests()
      const write = await editor.request(LIST, { json: { title: 'Written while Redis is down', published: true } })
      expect(write.status).toBe(503)
      expect(write.json()).toEqual({ statusCode: 503, statusMessage: 'Session store unavailable', data: { code: 'SESSION_STORE_UNAVAILABLE' } })
      expect(gateway.emulator.requests.filter(r => r.method !== 'GET')).toEqual([])

      // Still up, with one line per policy and outage, not one per request. (The cache notices the outage
      // when its generation check is due, past the 1 s interval by now.)
      expect((await anon.request('/')).status).toBe(200)
      expect((await anon.request(LIST)).status).toBe(200)
      expect(countLines(gateway.logs, /rate-limit store unavailable; policy "read" fails open/)).toBe(1)
      expect(countLines(gateway.logs, /rate-limit store unavailable; policy "login" fails closed/)).toBe(1)
      expect(countLines(gateway.logs, /rate-limit store unavailable/)).toBe(2)
      expect(countLines(gateway.logs, /cache store unavailable/)).toBe(1)

      await startRedis()
      let limited: Awaited<ReturnType<TestBrowser['request']>> | undefined
      const deadline = Date.now() + 15_000
      while (Date.now() < deadline) {
        const read = await anon.request(LIST)
        if (read.headers.get('ratelimit')) {
          limited = read
          break
        }
        await sleep(200)
      }
      expect(limited?.status).toBe(200)
      expect(countLines(gateway.logs, /rate-limit store back; policy "read" enforced again/)).toBe(1)
      // Limits apply again (the restarted Redis is empty, so the bucket starts full).
      const statuses: number[] = []
      for (let i = 0; i < 45; i++) statuses.push((await anon.request(LIST)).status)
      expect(statuses).toContain(429)
      expect(statuses.filter(s => s === 200).length).toBeLessThanOrEqual(40)

      expect((await new TestBrowser(gateway, exchanges).request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })).status).toBe(200)
      expect(countLines(gateway.logs, /rate-limit store back; policy "login" enforced again/)).toBe(1)
      // Each storage area has its own connection, back on its own reconnect schedule.
      // (The visitor's read budget is spent: a logged-in guest, counted per user, reads the shared cache.)
      const guest = new TestBrowser(gateway, exchanges)
      await guest.login('guest', 'guest-pass-123')
      for (let i = 0; i < 50 && countLines(gateway.logs, /cache store back/) === 0; i++) {
        expect((await guest.request(`${LIST}?sort=title`)).status).toBe(200)
        await sleep(200)
      }
      expect(countLines(gateway.logs, /cache store back/)).toBe(1)
    })

    it('keeps the log free of stacks, driver noise and secrets through the outage', () => {
      const logs = gateway.logs.join('')
      expect(logs).not.toMatch(/^\s+at\s/m)
      expect(logs).not.toContain('Unhandled error event')
      // One connection line per storage area and outage at most.
      expect(countLines(gateway.logs, /Redis connection for/)).toBeLessThanOrEqual(3)
      expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    })
  })
})
