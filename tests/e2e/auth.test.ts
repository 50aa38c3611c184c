import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaults, unseal } from 'iron-webcrypto'
import { findLeaks, startGateway, TestBrowser, TEST_SESSION_PASSWORD } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

const COOKIE = '__Host-cockpit-session'
const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '10000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '10000',
}

async function unsealCookie(value: string): Promise<Record<string, any>> {
  return await unseal(globalThis.crypto, decodeURIComponent(value), TEST_SESSION_PASSWORD, defaults) as Record<string, any>
}

describe.each([2, 1] as const)('login and sessions against Cockpit v%i', (version) => {
  let gateway: RunningGateway
  const exchanges: RecordedExchange[] = []
  const browser = () => new TestBrowser(gateway, exchanges)

  beforeAll(async () => {
    gateway = await startGateway({ version, env: GENEROUS_LIMITS })
  })
  afterAll(async () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    expect(gateway.logs.join('')).not.toMatch(/editor-pass-123|guest-pass-123|wrong-password/)
    await gateway.stop()
  })

  it('sets an HttpOnly, Secure, SameSite=Lax __Host- cookie and answers the user', async () => {
    const b = browser()
    const response = await b.request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
    expect(response.status).toBe(200)
    expect(response.json().user).toMatchObject({ name: 'Editor User', role: 'editor' })
    const cookie = response.setCookies.find(c => c.startsWith(`${COOKIE}=`))!
    expect(cookie).toBeDefined()
    expect(cookie).toMatch(/; HttpOnly/i)
    expect(cookie).toMatch(/; Secure/i)
    expect(cookie).toMatch(/; SameSite=Lax/i)
    expect(cookie).toMatch(/; Path=\//i)
    expect(cookie).not.toMatch(/; Domain=/i)
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('keeps the cookie small and free of keys, tokens and passwords', async () => {
    const b = browser()
    await b.login('editor', 'editor-pass-123')
    const raw = b.cookies.get(COOKIE)!
    expect(`${COOKIE}=${raw}`.length).toBeLessThan(4096)
    const sealed = await unsealCookie(raw)
    const text = JSON.stringify(sealed)
    for (const secret of [...gateway.secrets.filter(s => s !== TEST_SESSION_PASSWORD), 'USR-', 'account-', 'editor-pass-123']) expect(text).not.toContain(secret)
    expect(Object.keys(sealed.data).sort()).toEqual(['epoch', 'lastSeenAt', 'loggedInAt', 'sid', 'user', 'version'])
    expect(Object.keys(sealed.data.user).sort()).toEqual(['id', 'name', 'role'])
  })

  it('answers a wrong password and an unknown user with the same 401', async () => {
    const wrong = await browser().request('/api/auth/login', { json: { username: 'editor', password: 'wrong-password' } })
    const unknown = await browser().request('/api/auth/login', { json: { username: 'nobody-here', password: 'wrong-password' } })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.text).toBe(unknown.text)
    expect(wrong.json()).toEqual({ statusCode: 401, statusMessage: 'Invalid credentials', data: { code: 'INVALID_CREDENTIALS' } })
    expect(wrong.setCookies.filter(c => c.startsWith(`${COOKIE}=`) && !/=;/.test(c))).toEqual([])
  })

  it.each([
    ['a missing password', { username: 'editor' }],
    ['an empty username', { username: '', password: 'x' }],
    ['an oversized password', { username: 'editor', password: 'x'.repeat(257) }],
    ['a number', { username: 42, password: 'x' }],
    ['a NoSQL operator object', { username: { $eq: 'admin' }, password: 'x' }],
    ['a NoSQL $ne password', { username: 'admin', password: { $ne: null } }],
    ['an unknown field', { username: 'editor', password: 'x', role: 'admin' }],
    ['an array', ['editor', 'x']],
  ])('refuses %s with 400 and never calls Cockpit', async (_name, body) => {
    gateway.emulator.clearRequests()
    const response = await browser().request('/api/auth/login', { json: body })
    expect(response.status).toBe(400)
    expect(response.json().data.code).toBe('VALIDATION_FAILED')
    expect(response.json().data.issues.length).toBeGreaterThan(0)
    expect(gateway.emulator.requests).toEqual([])
  })

  it('refuses __proto__ keys, malformed JSON and other content types', async () => {
    gateway.emulator.clearRequests()
    const proto = await browser().request('/api/auth/login', { body: '{"username":"editor","password":"x","__proto__":{"role":"admin"}}', headers: { 'content-type': 'application/json' } })
    expect(proto.status).toBe(400)
    expect(proto.json().data.code).toBe('FORBIDDEN_KEY')
    const malformed = await browser().request('/api/auth/login', { body: '{"username":', headers: { 'content-type': 'application/json' } })
    expect(malformed.status).toBe(400)
    expect(malformed.json().data.code).toBe('INVALID_JSON')
    const text = await browser().request('/api/auth/login', { body: 'username=editor', headers: { 'content-type': 'text/plain' } })
    expect(text.status).toBe(415)
    expect(gateway.emulator.requests).toEqual([])
  })

  it('logs logins with user and IP, never the password', async () => {
    await browser().request('/api/auth/login', { json: { username: 'guest', password: 'wrong-password' } })
    await browser().login('guest', 'guest-pass-123')
    const logs = gateway.logs.join('')
    expect(logs).toMatch(/login failed user="guest" ip=127\.0\.0\.1 outcome=invalid-credentials/)
    expect(logs).toMatch(/login ok user="guest" .*role=guest ip=127\.0\.0\.1/)
  })

  it('gives a guest 403 on a write, and Cockpit sees no write', async () => {
    const b = browser()
    await b.login('guest', 'guest-pass-123')
    gateway.emulator.clearRequests()
    const response = await b.request('/api/cockpit/items/posts', { json: { title: 'Guest post', published: true } })
    expect(response.status).toBe(403)
    expect(response.json().data.code).toBe('FORBIDDEN')
    expect(gateway.emulator.requests.filter(r => r.method !== 'GET')).toEqual([])
  })

  it('exposes the session without internal ids', async () => {
    const b = browser()
    await b.login('editor', 'editor-pass-123')
    const session = (await b.request('/api/_auth/session')).json()
    expect(Object.keys(session).sort()).toEqual(['formToken', 'lastSeenAt', 'loggedInAt', 'user'])
    expect(session.user.role).toBe('editor')
  })

  it('refuses a tampered cookie with 401 and reads it as logged out', async () => {
    const b = browser()
    await b.login('editor', 'editor-pass-123')
    const raw = b.cookies.get(COOKIE)!
    b.cookies.set(COOKIE, raw.slice(0, -4) + (raw.endsWith('AAAA') ? 'BBBB' : 'AAAA'))
    const write = await b.request('/api/auth/logout-all', { json: {} })
    expect(write.status).toBe(401)
    expect(write.json().data.code).toBe('SESSION_EXPIRED')
    const forged = new TestBrowser(gateway, exchanges)
    forged.cookies.set(COOKIE, 'Fe26.2**not-a-seal')
    expect((await forged.request('/api/_auth/session')).json()).toEqual({})
  })

  it('logout clears the cookie, and a copy replayed afterwards is refused', async () => {
    const b = browser()
    await b.login('editor', 'editor-pass-123')
    const copy = new TestBrowser(gateway, exchanges)
    copy.cookies.set(COOKIE, b.cookies.get(COOKIE)!)
    const logout = await b.request('/api/auth/logout', { json: {} })
    expect(logout.status).toBe(204)
    expect(b.cookies.has(COOKIE)).toBe(false)
    const replay = await copy.request('/api/cockpit/items/posts', { json: { title: 'Replay', published: true } })
    expect(replay.status).toBe(401)
    expect((await copy.request('/api/_auth/session')).json()).toEqual({})
  })

  it('logout-all makes another browser\'s cookie fail, and a new login works again', async () => {
    const a = browser()
    const other = browser()
    await a.login('editor', 'editor-pass-123')
    await other.login('editor', 'editor-pass-123')
    expect((await other.request('/api/_auth/session')).json().user.role).toBe('editor')
    expect((await a.request('/api/auth/logout-all', { json: {} })).status).toBe(204)
    const refused = await other.request('/api/auth/logout-all', { json: {} })
    expect(refused.status).toBe(401)
    await other.login('editor', 'editor-pass-123')
    expect((await other.request('/api/_auth/session')).json().user.role).toBe('editor')
  })

  it('issues a fresh seal on every login (no fixation)', async () => {
    const b = browser()
    await b.login('editor', 'editor-pass-123')
    const first = await unsealCookie(b.cookies.get(COOKIE)!)
    await b.login('editor', 'editor-pass-123')
    const second = await unsealCookie(b.cookies.get(COOKIE)!)
    expect(second.id).not.toBe(first.id)
    expect(second.data.sid).not.toBe(first.data.sid)
  })

  it('serves the HTML form login with 303 redirects, never to another site', async () => {
    const ok = await browser().request('/api/auth/login', { form: { username: 'editor', password: 'editor-pass-123', redirect: '/posts/new' } })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/posts/new')
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const response = await browser().request('/api/auth/login', { form: { username: 'editor', password: 'editor-pass-123', redirect: evil } })
      expect(response.status).toBe(303)
      expect(response.headers.get('location')).toBe('/')
    }
    const bad = await browser().request('/api/auth/login', { form: { username: 'editor', password: 'nope-nope', redirect: '/posts/new' } })
    expect(bad.status).toBe(303)
    expect(bad.headers.get('location')).toBe('/login?error=INVALID_CREDENTIALS&redirect=%2Fposts%2Fnew&username=editor')
  })

  it('refuses a cross-site form post before checking credentials', async () => {
    gateway.emulator.clearRequests()
    const response = await browser().request('/api/auth/login', { form: { username: 'editor', password: 'editor-pass-123' }, origin: 'https://evil.example' })
    expect(response.status).toBe(403)
    expect(response.json().data.code).toBe('ORIGIN_MISMATCH')
    expect(gateway.emulator.requests).toEqual([])
  })
})

describe('session lifetime (short durations)', () => {
  let gateway: RunningGateway

  beforeAll(async () => {
    gateway = await startGateway({ version: 2, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_AUTH_IDLE_TIMEOUT: '2', NUXT_COCKPIT_GATEWAY_AUTH_MAX_AGE: '5' } })
  })
  afterAll(async () => {
    await gateway.stop()
  })

  const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

  it('expires an idle session on the server, whatever the cookie says', async () => {
    const b = new TestBrowser(gateway)
    await b.login('editor', 'editor-pass-123')
    await sleep(2600)
    const response = await b.request('/api/auth/logout-all', { json: {} })
    expect(response.status).toBe(401)
    expect(response.json().data.code).toBe('SESSION_EXPIRED')
  })

  it('slides the idle timeout with activity but ends at the absolute lifetime', async () => {
    const b = new TestBrowser(gateway)
    await b.login('editor', 'editor-pass-123')
    const started = Date.now()
    let resealed = 0
    while (Date.now() - started < 4400) {
      await sleep(900)
      const response = await b.request('/api/_auth/session')
      expect(response.json().user?.role).toBe('editor')
      if (response.setCookies.some(c => c.startsWith(`${COOKIE}=`))) resealed++
    }
    expect(resealed).toBeGreaterThan(0)
    await sleep(Math.max(0, 5300 - (Date.now() - started)))
    expect((await b.request('/api/_auth/session')).json()).toEqual({})
  })

  it('does not reseal a cookie on every request', async () => {
    const b = new TestBrowser(gateway)
    await b.login('editor', 'editor-pass-123')
    const first = await b.request('/api/_auth/session')
    const second = await b.request('/api/_auth/session')
    expect(first.setCookies).toEqual([])
    expect(second.setCookies).toEqual([])
  })
})

describe('login rate limiting', () => {
  let gateway: RunningGateway

  beforeAll(async () => {
    gateway = await startGateway({ version: 2, env: { NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '3', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_DELAY: '600', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '6' } })
  })
  afterAll(async () => {
    await gateway.stop()
  })

  it('answers 429 with Retry-After after N failures for a username, and per IP; refused attempts count nowhere', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await new TestBrowser(gateway).request('/api/auth/login', { json: { username: 'editor', password: `wrong-${i}` } })
      expect(response.status).toBe(401)
      expect(response.headers.get('ratelimit-policy')).toBe('"login";q=6;w=900')
      expect(response.headers.get('ratelimit')).toMatch(new RegExp(`^"login";r=${5 - i};t=\\d+$`))
    }
    const limited = await new TestBrowser(gateway).request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(590)
    expect(limited.json().data).toMatchObject({ code: 'RATE_LIMITED' })
    expect(limited.json().data.retryAfter).toBe(Number(limited.headers.get('retry-after')))
    // Another username still gets through until the per-IP budget (6 failures) is spent; the refused attempt above took none of it.
    for (let i = 0; i < 3; i++) expect((await new TestBrowser(gateway).request('/api/auth/login', { json: { username: 'guest', password: 'x-wrong' } })).status).toBe(401)
    expect((await new TestBrowser(gateway).request('/api/auth/login', { json: { username: 'admin', password: 'x-wrong' } })).status).toBe(429)
  })

  it('tells a form user when to retry', async () => {
    const response = await new TestBrowser(gateway).request('/api/auth/login', { form: { username: 'editor', password: 'editor-pass-123' } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toMatch(/^\/login\?error=RATE_LIMITED&retryAfter=\d+&username=editor$/)
  })
})
