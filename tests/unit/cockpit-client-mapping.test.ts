import { describe, expect, it, vi } from 'vitest'
import { createCockpitClient } from '../../layers/cockpit-gateway/server/cockpit/cockpit-client'
import { CockpitError } from '../../layers/cockpit-gateway/server/cockpit/cockpit-errors'
import type { CockpitClientOptions } from '../../layers/cockpit-gateway/server/cockpit/cockpit-types'
import { readCockpitSessionCookie } from '../../layers/cockpit-gateway/server/cockpit/cockpit-v2-login'

// Upstream answers the emulator can't produce (or only with effort), replayed through an injected
// fetch: the exact bodies and content types come from the contract.

const BASE = 'http://cockpit.invalid:8080'
const KEY = 'API-0123456789abcdef0123456789abcdef01234567'
const OPTS = { key: KEY }

interface Call { method: string, url: URL, headers: Headers, body?: string, redirect?: RequestRedirect }
type Route = (call: Call) => Response | Promise<Response>

function fakeCockpit(route: Route, options: Partial<CockpitClientOptions> = {}) {
  const calls: Call[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const call: Call = {
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : undefined,
      redirect: init?.redirect,
    }
    calls.push(call)
    return route(call)
  }) as unknown as typeof globalThis.fetch
  const client = createCockpitClient({ url: BASE, version: 2, retryDelay: 0, fetch, ...options })
  return { client, calls }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
const raw = (status: number, body: string, contentType = 'text/html;charset=UTF-8') =>
  new Response(body || null, { status, headers: { 'content-type': contentType } })

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  }
  catch (error) {
    expect(error).toBeInstanceOf(CockpitError)
    return (error as CockpitError).code
  }
  return 'resolved'
}

describe('v2 status mapping (contract §1.6)', () => {
  it.each([
    [412, () => json(412, { error: 'Authentication failed' }), 'UPSTREAM_AUTH_FAILED'],
    [403, () => json(403, { error: 'Permission denied' }), 'UPSTREAM_FORBIDDEN'],
    [404, () => json(404, { error: 'Model <nope> not found' }), 'MODEL_NOT_FOUND'],
    [400, () => json(400, { error: '<filter> is not valid json' }), 'INVALID_QUERY'],
    [500, () => raw(500, '{"error": "500", "message": "system error"}'), 'UPSTREAM_ERROR'],
    [502, () => raw(502, 'Bad gateway'), 'UPSTREAM_UNAVAILABLE'],
    [503, () => raw(503, ''), 'UPSTREAM_UNAVAILABLE'],
    [504, () => raw(504, ''), 'UPSTREAM_ERROR'],
    [302, () => new Response(null, { status: 302, headers: { location: 'https://evil.invalid/' } }), 'UPSTREAM_ERROR'],
    [200, () => raw(200, '<html>not json</html>'), 'UPSTREAM_ERROR'],
    [200, () => json(200, { unexpected: true }), 'UPSTREAM_ERROR'],
  ])('list answered %i → %s', async (_status, answer, code) => {
    const { client } = fakeCockpit(() => answer())
    expect(await codeOf(client.list('posts', {}, OPTS))).toBe(code)
  })

  it('create answered 412 Item data is missing → INVALID_DATA', async () => {
    const { client } = fakeCockpit(() => json(412, { error: 'Item data is missing' }))
    expect(await codeOf(client.create('posts', {}, OPTS))).toBe('INVALID_DATA')
  })

  it('get: empty 404 → null, JSON model 404 → MODEL_NOT_FOUND', async () => {
    expect(await fakeCockpit(() => raw(404, '')).client.get('posts', 'abc', OPTS)).toBeNull()
    expect(await codeOf(fakeCockpit(() => json(404, { error: 'Model <x> not found' })).client.get('x', 'abc', OPTS))).toBe('MODEL_NOT_FOUND')
  })

  it('never follows redirects (the key header would go along)', async () => {
    const { client, calls } = fakeCockpit(() => new Response(null, { status: 301, headers: { location: '/elsewhere' } }))
    expect(await codeOf(client.get('posts', 'abc', OPTS))).toBe('UPSTREAM_ERROR')
    expect(calls.every(c => c.redirect === 'manual')).toBe(true)
  })
})

describe('v2 list envelope', () => {
  it('always sends limit and skip, with a large limit when none is asked', async () => {
    const { client, calls } = fakeCockpit(() => json(200, { data: [{ _id: 'a' }], meta: { total: 1 } }))
    expect(await client.list('posts', {}, OPTS)).toEqual({ items: [{ _id: 'a' }], total: 1 })
    expect(calls[0]!.url.searchParams.get('limit')).toBe(String(2 ** 31 - 1))
    expect(calls[0]!.url.searchParams.get('skip')).toBe('0')
  })

  it('sends filter, sort and fields as JSON and locale as is', async () => {
    const { client, calls } = fakeCockpit(() => json(200, { data: [], meta: { total: 0 } }))
    await client.list('posts', { filter: { published: true }, sort: { title: -1 }, fields: { title: 1 }, limit: 2, skip: 4, locale: 'de' }, OPTS)
    const search = calls[0]!.url.searchParams
    expect(JSON.parse(search.get('filter')!)).toEqual({ published: true })
    expect(JSON.parse(search.get('sort')!)).toEqual({ title: -1 })
    expect(JSON.parse(search.get('fields')!)).toEqual({ title: 1 })
    expect([search.get('limit'), search.get('skip'), search.get('locale')]).toEqual(['2', '4', 'de'])
  })

  it('plain array, partial page: total is exact without a second call', async () => {
    const { client, calls } = fakeCockpit(() => json(200, [{ _id: 'a' }]))
    expect(await client.list('posts', { limit: 5, skip: 2 }, OPTS)).toEqual({ items: [{ _id: 'a' }], total: 3 })
    expect(calls).toHaveLength(1)
  })

  it('plain array, full page: counts with an _id-only projection', async () => {
    const { client, calls } = fakeCockpit(call => call.url.searchParams.has('limit')
      ? json(200, [{ _id: 'a' }, { _id: 'b' }])
      : json(200, [{ _id: 'a' }, { _id: 'b' }, { _id: 'c' }]))
    expect(await client.list('posts', { limit: 2, filter: { published: true } }, OPTS)).toEqual({ items: [{ _id: 'a' }, { _id: 'b' }], total: 3 })
    expect(calls).toHaveLength(2)
    expect(calls[1]!.url.searchParams.get('fields')).toBe('{"_id":1}')
    expect(calls[1]!.url.searchParams.get('filter')).toBe('{"published":true}')
  })
})

describe('input checks fail before any network call', () => {
  it.each([
    ['empty key', () => ({ key: '' }), 'MISSING_KEY'],
    ['key with a newline', () => ({ key: `${KEY}\n` }), 'MISSING_KEY'],
    ['key with a space', () => ({ key: 'API- x' }), 'MISSING_KEY'],
  ])('%s → %s', async (_name, options, code) => {
    const { client, calls } = fakeCockpit(() => json(200, []))
    expect(await codeOf(client.list('posts', {}, options()))).toBe(code)
    expect(await codeOf(client.get('posts', 'abc', options()))).toBe(code)
    expect(await codeOf(client.create('posts', { title: 'x' }, options()))).toBe(code)
    expect(await codeOf(client.update('posts', 'abc', { title: 'x' }, options()))).toBe(code)
    expect(await codeOf(client.remove('posts', 'abc', options()))).toBe(code)
    expect(calls).toHaveLength(0)
  })

  it.each([
    ['model with a slash', 'po/sts', 'abc'],
    ['model with dots', '..', 'abc'],
    ['model too long', 'a'.repeat(65), 'abc'],
    ['id with a slash', 'posts', '../x'],
    ['id with a query', 'posts', 'a?b=c'],
    ['empty id', 'posts', ''],
  ])('%s → INVALID_QUERY', async (_name, model, id) => {
    const { client, calls } = fakeCockpit(() => json(200, {}))
    expect(await codeOf(client.get(model, id, OPTS))).toBe('INVALID_QUERY')
    expect(await codeOf(client.update(model, id, {}, OPTS))).toBe('INVALID_QUERY')
    expect(await codeOf(client.remove(model, id, OPTS))).toBe('INVALID_QUERY')
    expect(calls).toHaveLength(0)
  })

  it.each([
    [{ limit: 0 }], [{ limit: -1 }], [{ limit: 1.5 }], [{ skip: -1 }],
    [{ sort: { title: 2 } }], [{ fields: { title: 'yes' } }], [{ locale: 'de&api_key=x' }],
  ])('list query %j → INVALID_QUERY', async (query) => {
    const { client, calls } = fakeCockpit(() => json(200, {}))
    expect(await codeOf(client.list('posts', query as never, OPTS))).toBe('INVALID_QUERY')
    expect(calls).toHaveLength(0)
  })

  it('a non-object write → INVALID_DATA', async () => {
    const { client, calls } = fakeCockpit(() => json(200, {}))
    expect(await codeOf(client.create('posts', [] as never, OPTS))).toBe('INVALID_DATA')
    expect(calls).toHaveLength(0)
  })

  it('an _id in create data is dropped (it would turn the create into an update)', async () => {
    const { client, calls } = fakeCockpit(() => json(200, { _id: 'new', title: 'x' }))
    await client.create('posts', { _id: 'victim', title: 'x' }, OPTS)
    expect(JSON.parse(calls[0]!.body!)).toEqual({ data: { title: 'x' } })
  })

  it('refuses a base URL with credentials, without quoting it', () => {
    expect(() => createCockpitClient({ url: 'https://user:secret@cms.invalid', version: 2 })).toThrow(/^Invalid Cockpit URL$/)
  })
})

describe('transport', () => {
  it('a fetch error carrying the URL becomes a fixed UPSTREAM_UNAVAILABLE without cause', async () => {
    const { client } = fakeCockpit(() => {
      throw new TypeError(`fetch failed: connect ECONNREFUSED ${BASE}/api/content/items/posts`)
    })
    const error = await client.list('posts', {}, OPTS).catch(e => e)
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE')
    expect(error.cause).toBeUndefined()
    expect(`${String(error)} ${JSON.stringify(error)} ${error.stack}`).not.toContain('cockpit.invalid')
  })

  it('a body larger than maxResponseBytes → UPSTREAM_ERROR', async () => {
    const { client } = fakeCockpit(() => json(200, { data: [{ _id: 'a', body: 'x'.repeat(5000) }], meta: { total: 1 } }), { maxResponseBytes: 1000 })
    expect(await codeOf(client.list('posts', {}, OPTS))).toBe('UPSTREAM_ERROR')
  })

  it('times out a call that never answers (UPSTREAM_TIMEOUT), reads not retried on timeout', async () => {
    const { client, calls } = fakeCockpit(() => new Promise((_resolve, reject) => {
      setTimeout(() => reject(new Error('late')), 1000)
    }), { timeout: 30 })
    // The fake never looks at the signal; the client must still give up after `timeout`.
    const started = Date.now()
    expect(await codeOf(client.get('posts', 'abc', OPTS))).toBe('UPSTREAM_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(900)
    expect(calls).toHaveLength(1)
  })

  it('hooks see method, operation and model, never the key; a hook cannot set credential headers', async () => {
    const seen: unknown[] = []
    const { client, calls } = fakeCockpit(() => json(200, { data: [], meta: { total: 0 } }), {
      hooks: {
        onRequest: (context) => {
          seen.push([...context.headers.entries()])
          context.headers.set('x-trace', 't-1')
          context.headers.set('api-key', 'API-hook-override')
          context.headers.set('authorization', 'Bearer hook')
        },
        onResponse: context => void seen.push(context),
      },
    })
    await client.list('posts', {}, OPTS)
    expect(JSON.stringify(seen)).not.toContain(KEY)
    expect(seen[1]).toMatchObject({ method: 'GET', operation: 'list', model: 'posts', status: 200 })
    expect(calls[0]!.headers.get('x-trace')).toBe('t-1')
    expect(calls[0]!.headers.get('api-key')).toBe(KEY)
    expect(calls[0]!.headers.get('authorization')).toBeNull()
  })
})

describe('v2 authenticate (admin UI flow)', () => {
  const LOGIN_HTML = '<script>App.login({ csrf: "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig-_x", to: "/" })</script>'
  const USER = { user: 'editor', email: 'editor@example.test', active: true, name: 'Editor User', role: 'editor', _id: 'u1', i18n: 'en' }

  function loginRoute(check: (call: Call) => Response): Route {
    let session = 0
    return (call) => {
      if (call.url.pathname === '/auth/login') {
        session++
        return new Response(LOGIN_HTML, { status: 200, headers: [['content-type', 'text/html'], ['set-cookie', `cockpit=s${session}; path=/; HttpOnly`], ['set-cookie', 'lang=en; path=/']] })
      }
      return check(call)
    }
  }

  it('maps a good answer and sends cookie + csrf; each attempt starts with an empty jar', async () => {
    const { client, calls } = fakeCockpit(loginRoute(() => json(200, { success: true, user: USER, csrf: 'x' }, { 'set-cookie': 'cockpit=s9' })))
    expect(await client.authenticate('editor', 'editor-pass-123')).toEqual({ id: 'u1', username: 'editor', name: 'Editor User', email: 'editor@example.test', role: 'editor' })
    await client.authenticate('editor', 'editor-pass-123')
    expect(calls.map(c => `${c.method} ${c.url.pathname} ${c.headers.get('cookie')}`)).toEqual([
      'GET /auth/login null',
      'POST /auth/check cockpit=s1; lang=en',
      'GET /auth/login null',
      'POST /auth/check cockpit=s2; lang=en',
    ])
    expect(JSON.parse(calls[1]!.body!)).toEqual({ auth: { user: 'editor', password: 'editor-pass-123' }, csrf: 'eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig-_x' })
    expect(calls.every(c => !c.headers.has('api-key'))).toBe(true)
  })

  it.each([
    ['success:false', () => json(200, { success: false })],
    ['a 2FA challenge', () => json(200, { success: true, user: { name: 'E', user: 'editor', email: 'e@x', twofa: 'jwt' } })],
    ['401 (role public)', () => raw(401, '')],
  ])('%s → null', async (_name, answer) => {
    const { client } = fakeCockpit(loginRoute(answer))
    expect(await client.authenticate('editor', 'pw')).toBeNull()
  })

  it.each([
    ['412 APP_LOGIN_SESSION_INVALID', () => json(412, { error: 'APP_LOGIN_SESSION_INVALID' })],
    ['404 already logged in', () => raw(404, '{"error": "404", "message":"Requested resource is not available"}')],
    ['200 without success', () => json(200, { nope: 1 })],
  ])('%s → UPSTREAM_ERROR', async (_name, answer) => {
    const { client } = fakeCockpit(loginRoute(answer))
    expect(await codeOf(client.authenticate('editor', 'pw'))).toBe('UPSTREAM_ERROR')
  })

  it('no csrf or no cookie in the form → UPSTREAM_ERROR, and the password is never sent', async () => {
    for (const form of [
      () => new Response('<html>no token</html>', { status: 200, headers: { 'set-cookie': 'cockpit=a' } }),
      () => new Response(LOGIN_HTML, { status: 200 }),
      () => new Response(null, { status: 302, headers: { location: '/' } }),
    ]) {
      const { client, calls } = fakeCockpit(form)
      expect(await codeOf(client.authenticate('editor', 'pw'))).toBe('UPSTREAM_ERROR')
      expect(calls).toHaveLength(1)
    }
  })

  it('empty credentials → null without a call', async () => {
    const { client, calls } = fakeCockpit(() => json(200, {}))
    expect(await client.authenticate('', 'x')).toBeNull()
    expect(await client.authenticate('x', '')).toBeNull()
    expect(calls).toHaveLength(0)
  })

  it('reads cookies from a joined set-cookie header too', () => {
    const headers = new Headers()
    headers.append('set-cookie', 'a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT; path=/')
    headers.append('set-cookie', 'b=2; path=/')
    expect(readCockpitSessionCookie(headers)).toBe('a=1; b=2')
  })
})

describe('v1 specifics', () => {
  const v1 = (route: Route, authKey = 'c9a28a6ff3e17bba7521559b8da81e') => fakeCockpit(route, { version: 1, authKey })

  it.each([
    ['401 key rejected', () => json(401, { error: 'Unauthorized' }), 'UPSTREAM_AUTH_FAILED'],
    ['401 ACL denial (with a space)', () => raw(401, '{"error": "Unauthorized"}', 'application/json'), 'UPSTREAM_FORBIDDEN'],
    ['412 collection not found', () => raw(412, '{"error": "Collection not found"}', 'application/json'), 'MODEL_NOT_FOUND'],
    ['500', () => raw(500, ''), 'UPSTREAM_ERROR'],
  ])('list %s → %s', async (_name, answer, code) => {
    expect(await codeOf(v1(answer).client.list('posts', {}, OPTS))).toBe(code)
  })

  it('create 412 "The title is required!" → INVALID_DATA', async () => {
    expect(await codeOf(v1(() => json(412, { error: 'The title is required!' })).client.create('posts', { body: 'x' }, OPTS))).toBe('INVALID_DATA')
  })

  it('a write refused with 401 is FORBIDDEN when the same key can read, AUTH_FAILED otherwise', async () => {
    const canRead = v1(call => call.url.pathname.startsWith('/api/collections/get/') ? json(200, { entries: [], total: 0 }) : json(401, { error: 'Unauthorized' }))
    expect(await codeOf(canRead.client.create('posts', { title: 'x' }, OPTS))).toBe('UPSTREAM_FORBIDDEN')
    expect(canRead.calls.map(c => c.url.pathname)).toEqual(['/api/collections/save/posts', '/api/collections/get/posts'])
    const cannot = v1(() => json(401, { error: 'Unauthorized' }))
    expect(await codeOf(cannot.client.remove('posts', 'abc', OPTS))).toBe('UPSTREAM_AUTH_FAILED')
  })

  it('authenticate: maps group to role and drops api_key', async () => {
    const { client, calls } = v1(() => json(200, { user: 'editor', email: 'editor@example.test', group: 'editor', name: 'Editor User', active: true, api_key: 'account-secret', _id: 'u1' }))
    const user = await client.authenticate('editor', 'editor-pass-123')
    expect(user).toEqual({ id: 'u1', username: 'editor', name: 'Editor User', email: 'editor@example.test', role: 'editor' })
    expect(JSON.stringify(user)).not.toContain('account-secret')
    expect(calls[0]!.headers.get('cockpit-token')).toBe('c9a28a6ff3e17bba7521559b8da81e')
    expect(JSON.parse(calls[0]!.body!)).toEqual({ user: 'editor', password: 'editor-pass-123' })
  })

  it.each([
    ['401 Authentication failed', () => json(401, { error: 'Authentication failed' }), null],
    ['412 missing', () => json(412, { error: 'Missing user or password' }), null],
  ])('authenticate %s → null', async (_name, answer, result) => {
    expect(await v1(answer).client.authenticate('editor', 'x')).toBe(result)
  })

  it('authenticate with a refused authKey → UPSTREAM_AUTH_FAILED; without one → MISSING_KEY, no call', async () => {
    expect(await codeOf(v1(() => json(401, { error: 'Unauthorized' })).client.authenticate('editor', 'x'))).toBe('UPSTREAM_AUTH_FAILED')
    const none = v1(() => json(200, {}), '')
    expect(await codeOf(none.client.authenticate('editor', 'x'))).toBe('MISSING_KEY')
    expect(none.calls).toHaveLength(0)
  })

  it('remove with count 0 → NOT_FOUND; update 404 → NOT_FOUND; create 404 (empty data) → INVALID_DATA', async () => {
    expect(await codeOf(v1(() => json(200, { success: true, count: 0 })).client.remove('posts', 'abc', OPTS))).toBe('NOT_FOUND')
    expect(await codeOf(v1(() => raw(404, '', 'application/json')).client.update('posts', 'abc', { title: 'x' }, OPTS))).toBe('NOT_FOUND')
    expect(await codeOf(v1(() => raw(404, '', 'application/json')).client.create('posts', {}, OPTS))).toBe('INVALID_DATA')
  })
})
