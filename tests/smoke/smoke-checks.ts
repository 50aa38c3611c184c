import { findLeaks, TestBrowser } from '../support/gateway-server'
import type { RunningGateway } from '../support/gateway-server'

/** The run-time env every smoke target gets on top of the emulator's `NUXT_COCKPIT_*` (plain http on loopback). */
export const SMOKE_RUNTIME_ENV = {
  NUXT_SESSION_COOKIE_SECURE: 'false',
  NUXT_SESSION_NAME: 'cockpit-session',
  NUXT_COCKPIT_GATEWAY_AUTH_FAILURE_DELAY: '50',
  // Low enough that the third attempt for one username is refused.
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '2',
  // …and waits long enough that a slow preset cannot outlast it.
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_DELAY: '600',
  // Set only at run time, on the platform side (on Workers: a binding): the gateway must honour it even
  // though it parses its config once, not per request.
  NUXT_COCKPIT_GATEWAY_LIMITS_DEFAULT_LIST_LIMIT: '1',
} as const

/** One check of {@link runSmokeChecks}. */
export interface SmokeCheck {
  name: string
  ok: boolean
  detail?: string
}

/**
 * The deploy smoke test: what every preset must do against the emulator, in order: an anonymous read, a
 * run-time env value honoured (set only on the platform side), a login, a save, an update by its owner (owner records live in the `state` storage), a logout whose
 * cookie is refused afterwards (revocation, also `state`), a per-username login limit answering 429 with
 * `Retry-After`, and no key or session password in any response or log line. Stops at the first failure.
 * @param gateway the running target (only `url`, `origin`, `logs` and `secrets` are used)
 * @param label written into the saved post's title
 */
export async function runSmokeChecks(gateway: RunningGateway, label: string): Promise<SmokeCheck[]> {
  const browser = new TestBrowser(gateway)
  const checks: SmokeCheck[] = []
  const check = async (name: string, run: () => Promise<string | undefined>): Promise<boolean> => {
    try {
      const failure = await run()
      checks.push({ name, ok: !failure, detail: failure })
      return !failure
    }
    catch (error) {
      checks.push({ name, ok: false, detail: `threw ${(error as Error).message}` })
      return false
    }
  }
  const expectStatus = (what: string, response: { status: number, text: string }, status: number) =>
    response.status === status ? undefined : `${what}: expected ${status}, got ${response.status} ${response.text.slice(0, 200)}`

  let id = ''
  let loggedInCookie = ''
  const steps: Array<[string, () => Promise<string | undefined>]> = [
    ['anonymous read', async () => {
      const list = await browser.request('/api/cockpit/items/posts')
      return expectStatus('GET /api/cockpit/items/posts', list, 200)
        ?? (list.json<{ items: unknown[] }>().items.length > 0 ? undefined : 'no items in the list')
    }],
    ['run-time env honoured', async () => {
      // The seed has two published posts: a page of one, with the total still counting both.
      const list = await browser.request('/api/cockpit/items/posts')
      const { items, total } = list.json<{ items: unknown[], total: number }>()
      return expectStatus('GET /api/cockpit/items/posts', list, 200)
        ?? (items.length === 1 && total > 1 ? undefined : `a default page of ${items.length} of ${total} items, not 1 (NUXT_COCKPIT_GATEWAY_LIMITS_DEFAULT_LIST_LIMIT)`)
    }],
    ['login', async () => {
      const login = await browser.request('/api/auth/login', { json: { username: 'editor', password: 'editor-pass-123' } })
      loggedInCookie = browser.cookieHeader()
      return expectStatus('POST /api/auth/login', login, 200)
        ?? (browser.cookies.has(SMOKE_RUNTIME_ENV.NUXT_SESSION_NAME) ? undefined : `no ${SMOKE_RUNTIME_ENV.NUXT_SESSION_NAME} cookie (got ${login.setCookies.length} Set-Cookie)`)
    }],
    ['session', async () => {
      const session = await browser.request('/api/_auth/session')
      return expectStatus('GET /api/_auth/session', session, 200)
        ?? (session.json<{ user?: { role?: string } }>().user?.role === 'editor' ? undefined : `not the editor's session: ${session.text.slice(0, 200)}`)
    }],
    ['save', async () => {
      const created = await browser.request('/api/cockpit/items/posts', { json: { title: `Smoke ${label}`, body: 'saved by the preset smoke test', published: true } })
      id = created.status === 201 ? created.json<{ _id: string }>()._id : ''
      return expectStatus('POST /api/cockpit/items/posts', created, 201) ?? (id ? undefined : 'no _id in the stored item')
    }],
    ['update own item', async () => {
      const updated = await browser.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { title: `Smoke ${label} (edited)` } })
      return expectStatus(`PATCH /api/cockpit/items/posts/${id}`, updated, 200)
    }],
    ['logout', async () => {
      const logout = await browser.request('/api/auth/logout', { json: {} })
      return expectStatus('POST /api/auth/logout', logout, 204)
    }],
    ['revoked cookie refused', async () => {
      const replay = await browser.request('/api/cockpit/items/posts', { json: { title: 'after logout', published: true }, headers: { cookie: loggedInCookie } })
      return expectStatus('POST with the logged-out cookie', replay, 401)
    }],
    ['rate limit', async () => {
      const limit = Number(SMOKE_RUNTIME_ENV.NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT)
      const username = `smoke-limit-${label}`
      for (let attempt = 1; attempt <= limit; attempt++) {
        const refused = await browser.request('/api/auth/login', { json: { username, password: 'wrong-password' } })
        if (refused.status !== 401) return `failed login ${attempt} of ${limit}: expected 401, got ${refused.status} ${refused.text.slice(0, 200)}`
      }
      const limited = await browser.request('/api/auth/login', { json: { username, password: 'wrong-password' } })
      const retryAfter = Number(limited.headers.get('retry-after'))
      return expectStatus(`login ${limit + 1} for one username`, limited, 429)
        ?? (Number.isInteger(retryAfter) && retryAfter > 0 ? undefined : `Retry-After is ${JSON.stringify(limited.headers.get('retry-after'))}`)
    }],
    ['no secret in responses or logs', async () => {
      const leaks = findLeaks(gateway.secrets, browser.exchanges, gateway.logs)
      return leaks.length ? `secrets found in: ${leaks.join(', ')}` : undefined
    }],
  ]
  for (const [name, run] of steps) {
    if (!await check(name, run)) break
  }
  return checks
}

/**
 * Env of the Cloudflare isolates bound to the gateway's Durable Object (on top of {@link SMOKE_RUNTIME_ENV}):
 * the binding, the platform client-address header (so a burst can name its client), a login limit per
 * address small enough for a short burst, and revocation read on every request, so "refused on the next
 * request" is a property of the store and not of the in-process cache (≤ 1 s by default).
 */
export const DURABLE_SMOKE_ENV = {
  NUXT_COCKPIT_GATEWAY_DURABLE_OBJECT_BINDING: 'GATEWAY_DO',
  NUXT_COCKPIT_GATEWAY_TRUST_PROXY: 'cf-connecting-ip',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '4',
  NUXT_COCKPIT_GATEWAY_AUTH_REVOCATION_CHECK_INTERVAL: '0',
} as const

/**
 * Two isolates of one build bound to one Durable Object namespace must act as one gateway: a burst of 5× a
 * limit split between them (all in flight at once) admits exactly the limit, for the per-address GCRA
 * policy and for the per-account backoff; a session issued by one is accepted by the other; a logout and a
 * logout-everywhere through one are refused by the other on its next request. Stops at the first failure.
 * @param first one isolate (its `url`, `origin`, `logs`, `secrets`)
 * @param second the other isolate, same namespace
 * @param label makes the burst's usernames unique to this run
 */
export async function runSharedStateChecks(first: RunningGateway, second: RunningGateway, label: string): Promise<SmokeCheck[]> {
  const exchanges: TestBrowser['exchanges'] = []
  const on = (gateway: RunningGateway) => new TestBrowser(gateway, exchanges)
  const checks: SmokeCheck[] = []
  // A fresh documentation address per run (TEST-NET-3), so buckets of an earlier run on the same store do not count.
  const address = (n: number) => `203.0.113.${(Date.now() + n) % 250 + 1}`

  /** `count` failed logins in flight at once, alternating isolates; how they were answered. */
  const burst = async (count: number, ip: string, username: (i: number) => string) => {
    const answers = await Promise.all(Array.from({ length: count }, (_, i) =>
      on(i % 2 ? second : first).request('/api/auth/login', { json: { username: username(i), password: 'wrong-password' }, headers: { 'cf-connecting-ip': ip } })))
    const refused = answers.filter(a => a.status === 429)
    const badRetry = refused.find(a => !(Number(a.headers.get('retry-after')) > 0))
    return { failed: answers.filter(a => a.status === 401).length, refused: refused.length, other: answers.filter(a => a.status !== 401 && a.status !== 429).map(a => a.status), badRetry }
  }
  const exact = (what: string, limit: number, result: Awaited<ReturnType<typeof burst>>) =>
    result.other.length
      ? `${what}: unexpected statuses ${result.other.join(', ')}`
      : result.badRetry
        ? `${what}: a 429 without a positive Retry-After`
        : result.failed === limit && result.refused === 4 * limit
          ? undefined
          : `${what}: ${result.failed} admitted and ${result.refused} refused of ${5 * limit}, expected exactly ${limit} admitted`
  const sessionUser = async (gateway: RunningGateway, cookie: string) =>
    (await on(gateway).request('/api/_auth/session', { headers: { cookie } })).json<{ user?: { role?: string } }>().user?.role
  const loginOn = async (gateway: RunningGateway) => {
    const browser = on(gateway)
    await browser.login('editor', 'editor-pass-123')
    return browser
  }

  const steps: Array<[string, () => Promise<string | undefined>]> = [
    ['one exact per-address limit across two isolates (GCRA)', async () => {
      const limit = Number(DURABLE_SMOKE_ENV.NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT)
      // A fresh username per attempt: only the address's limit can refuse.
      return exact('login burst from one address', limit, await burst(5 * limit, address(0), i => `burst-${label}-${i}`))
    }],
    ['one exact per-account limit across two isolates (backoff)', async () => {
      const limit = Number(SMOKE_RUNTIME_ENV.NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT)
      return exact('login burst for one username', limit, await burst(5 * limit, address(100), () => `account-${label}`))
    }],
    ['logout through one isolate refused by the other', async () => {
      const browser = await loginOn(first)
      const cookie = browser.cookieHeader()
      if (await sessionUser(second, cookie) !== 'editor') return 'the other isolate does not accept a session issued by the first'
      const logout = await on(second).request('/api/auth/logout', { json: {}, headers: { cookie } })
      if (logout.status !== 204) return `logout: expected 204, got ${logout.status}`
      return await sessionUser(first, cookie) === undefined ? undefined : 'the first isolate still accepts the logged-out cookie'
    }],
    ['logout-everywhere through one isolate refused by the other', async () => {
      const browser = await loginOn(second)
      const cookie = browser.cookieHeader()
      if (await sessionUser(first, cookie) !== 'editor') return 'the first isolate does not accept a session issued by the other'
      const logoutAll = await on(first).request('/api/auth/logout-all', { json: {}, headers: { cookie } })
      if (logoutAll.status !== 204) return `logout-all: expected 204, got ${logoutAll.status}`
      return await sessionUser(second, cookie) === undefined ? undefined : 'the other isolate still accepts a cookie revoked everywhere'
    }],
    ['no secret in responses or logs', async () => {
      const leaks = findLeaks(first.secrets, exchanges, first.logs)
      return leaks.length ? `secrets found in: ${leaks.join(', ')}` : undefined
    }],
  ]
  for (const [name, run] of steps) {
    let failure: string | undefined
    try {
      failure = await run()
    }
    catch (error) {
      failure = `threw ${(error as Error).message}`
    }
    checks.push({ name, ok: !failure, detail: failure })
    if (failure) break
  }
  return checks
}
