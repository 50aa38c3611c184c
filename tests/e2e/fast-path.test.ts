// The in-process shortcuts of the request path (issue 11) keep every guarantee, with the bounds the README
// states: revocation and cache invalidation made by another instance take effect within 1 s; this
// instance's own at once; one upstream call per cache expiry. Two built servers share one Redis here.
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startGateway, TestBrowser } from '../support/gateway-server'
import type { RunningGateway } from '../support/gateway-server'

const LIST = '/api/cockpit/items/posts'
/** The largest bound the README allows for both intervals, plus scheduling slack. */
const CROSS_INSTANCE_BOUND_MS = 1000
const SLACK_MS = 250
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

async function freshRedisUrl(db: string): Promise<string> {
  const url = new URL(inject('redisUrl'))
  url.pathname = `/${db}`
  const redis = new Redis(url.href, { maxRetriesPerRequest: 1 })
  try {
    await redis.flushdb()
  }
  finally {
    redis.disconnect()
  }
  return url.href
}

describe('two instances sharing Redis', () => {
  let first: RunningGateway
  let second: RunningGateway

  beforeAll(async () => {
    const env = {
      NUXT_COCKPIT_GATEWAY_REDIS_URL: await freshRedisUrl('7'),
      NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '1000',
      NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '1000',
    }
    first = await startGateway({ version: 2, env })
    second = await startGateway({ version: 2, env, emulator: first.emulator })
  })

  afterAll(async () => {
    await second?.stop()
    await first?.stop()
  })

  /** The same browser profile seen by both instances (a load balancer in front). */
  async function loggedInOnBoth(): Promise<{ onFirst: TestBrowser, onSecond: TestBrowser }> {
    const onFirst = new TestBrowser(first)
    await onFirst.login('editor', 'editor-pass-123')
    const onSecond = new TestBrowser(second)
    for (const [name, value] of onFirst.cookies) onSecond.cookies.set(name, value)
    // Both instances have verified this cookie and cached the user's revocation state.
    expect((await onFirst.request('/api/_auth/session')).json().user?.name).toBe('Editor User')
    expect((await onSecond.request('/api/_auth/session')).json().user?.name).toBe('Editor User')
    return { onFirst, onSecond }
  }

  it('refuses a cookie logged out on one instance on the next request there, and on the other within 1 s', async () => {
    const { onFirst, onSecond } = await loggedInOnBoth()
    const cookie = onFirst.cookieHeader()
    expect((await onSecond.request('/api/auth/logout', { json: {} })).status).toBe(204)
    // The instance that revoked it: at once.
    expect(await fetch(`${second.url}/api/_auth/session`, { headers: { cookie } }).then(r => r.json())).toEqual({})
    await sleep(CROSS_INSTANCE_BOUND_MS + SLACK_MS)
    const replay = await fetch(`${first.url}${LIST}`, { method: 'POST', headers: { cookie, 'origin': first.origin, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'after logout', published: true }) })
    expect(replay.status).toBe(401)
    expect(await fetch(`${first.url}/api/_auth/session`, { headers: { cookie } }).then(r => r.json())).toEqual({})
  })

  it('refuses every cookie of a user logged out everywhere on another instance within 1 s', async () => {
    const { onFirst, onSecond } = await loggedInOnBoth()
    const otherBrowser = new TestBrowser(first)
    await otherBrowser.login('editor', 'editor-pass-123')
    expect((await otherBrowser.request('/api/_auth/session')).json().user?.name).toBe('Editor User')
    expect((await onSecond.request('/api/auth/logout-all', { json: {} })).status).toBe(204)
    await sleep(CROSS_INSTANCE_BOUND_MS + SLACK_MS)
    expect((await otherBrowser.request('/api/_auth/session')).json()).toEqual({})
    expect((await onFirst.request('/api/_auth/session')).json()).toEqual({})
    // A new login right after is valid on both (it is stamped with the fresh version, not a cached one).
    const again = new TestBrowser(second)
    await again.login('editor', 'editor-pass-123')
    const onFirstAgain = new TestBrowser(first)
    for (const [name, value] of again.cookies) onFirstAgain.cookies.set(name, value)
    expect((await onFirstAgain.request('/api/_auth/session')).json().user?.name).toBe('Editor User')
  })

  it('shows a write made through one instance on the other within 1 s, and on the writer at once', async () => {
    const reader = new TestBrowser(first)
    const page = `${LIST}?limit=100`
    expect((await reader.request(page)).status).toBe(200)
    // Cached on the reader's instance: the next read of the same page is a hit.
    expect((await reader.request(page)).headers.get('x-cockpit-gateway-cache')).toBe('hit')
    const editor = new TestBrowser(second)
    await editor.login('editor', 'editor-pass-123')
    const title = `Invalidation ${Date.now()}`
    expect((await editor.request(LIST, { json: { title, published: true } })).status).toBe(201)
    const onWriter = await new TestBrowser(second).request(page)
    expect(onWriter.json<{ items: { title: string }[] }>().items.map(item => item.title)).toContain(title)
    await sleep(CROSS_INSTANCE_BOUND_MS + SLACK_MS)
    const after = await reader.request(page)
    expect(after.json<{ items: { title: string }[] }>().items.map(item => item.title)).toContain(title)
  })
})

describe('one upstream call per cache expiry', () => {
  it('sends at most one list call to Cockpit per expiry under 50 concurrent readers', async () => {
    const gateway = await startGateway({ version: 2, env: { NUXT_COCKPIT_GATEWAY_CACHE_MAX_AGE: '1', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '1000000' } })
    try {
      const url = `${gateway.url}${LIST}?limit=5`
      expect((await fetch(url)).status).toBe(200)
      gateway.emulator.clearRequests()
      const started = Date.now()
      let requests = 0
      // 50 readers, each in a loop, for a bounded time and count.
      await Promise.all(Array.from({ length: 50 }, async () => {
        while (Date.now() - started < 3500 && requests < 20_000) {
          requests++
          const response = await fetch(url)
          await response.arrayBuffer()
          expect(response.status).toBe(200)
        }
      }))
      const elapsedSeconds = (Date.now() - started) / 1000
      const upstream = gateway.emulator.requests.filter(request => request.path === '/api/content/items/posts').length
      // maxAge 1 s: at most one refresh per elapsed second, plus one for an expiry at either edge.
      expect(upstream).toBeGreaterThan(0)
      expect(upstream).toBeLessThanOrEqual(Math.floor(elapsedSeconds) + 2)
      expect(requests).toBeGreaterThan(upstream * 10)
    }
    finally {
      await gateway.stop()
    }
  })
})
