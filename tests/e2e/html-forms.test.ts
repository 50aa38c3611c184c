import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_V1, SEED_V2 } from '../../emulator/index'
import { findLeaks, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// The demo without JavaScript, over HTTP against the built server: the form-post twins of the writes (same
// origin AND the session's form token), urlencoded logout, pages rendered per request, and real 404s.
const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '10000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '10000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '10000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '10000',
}
const HTML = { accept: 'text/html' }
const CREATE = '/api/cockpit/form-posts/posts/create'

describe.each([2, 1] as const)('HTML forms and pages without JavaScript against Cockpit v%i', (version) => {
  const seed = version === 2 ? SEED_V2 : SEED_V1
  const exchanges: RecordedExchange[] = []
  let gateway: RunningGateway
  const browser = () => new TestBrowser(gateway, exchanges)
  const writes = () => gateway.emulator.requests.filter(r => version === 2
    ? (r.method === 'POST' && r.path.startsWith('/api/content/item/')) || r.method === 'DELETE'
    : /^\/api\/collections\/(save|remove)\//.test(r.path))

  async function loggedIn(username: string): Promise<{ b: TestBrowser, token: string }> {
    const b = browser()
    await b.login(username, `${username}-pass-123`)
    const { formToken } = (await b.request('/api/_auth/session')).json()
    return { b, token: formToken as string }
  }

  function location(response: { headers: Headers }): URL {
    return new URL(response.headers.get('location') ?? '', gateway.url)
  }

  beforeAll(async () => {
    gateway = await startGateway({ version, env: GENEROUS_LIMITS })
  })
  afterAll(async () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
    await gateway.stop()
  })

  it('gives each session its own form token, and none without a session', async () => {
    const one = await loggedIn('editor')
    const two = await loggedIn('editor')
    expect(one.token).toMatch(/^[\w-]{43}$/)
    expect(two.token).not.toBe(one.token)
    expect((await browser().request('/api/_auth/session')).json()).toEqual({})
    // The token is rendered into the per-request form, and never into prerendered HTML.
    expect((await one.b.request('/posts/new', { headers: HTML })).text).toContain(`name="_csrf" value="${one.token}"`)
    expect((await one.b.request('/', { headers: HTML })).text).not.toContain(one.token)
  })

  it('creates through a form post: 303 to the success page, checkbox and text coerced to the schema', async () => {
    const { b, token } = await loggedIn('editor')
    gateway.emulator.clearRequests()
    const draft = await b.request(CREATE, { form: { _csrf: token, _success: '/posts/{id}/edit?created=1', _back: '/posts/new', title: 'Form draft', body: 'x' } })
    expect(draft.status).toBe(303)
    const target = location(draft)
    expect(target.pathname).toMatch(/^\/posts\/[\w-]+\/edit$/)
    expect(target.search).toBe('?created=1')
    const id = target.pathname.split('/')[2]!
    expect((await b.request(`/api/cockpit/items/posts/${id}`)).json()).toMatchObject({ title: 'Form draft', body: 'x', published: false })

    const published = await b.request(CREATE, { form: { _csrf: token, _success: '/posts/{id}', title: 'Form post', published: 'on' } })
    expect(published.status).toBe(303)
    const publishedId = location(published).pathname.split('/')[2]!
    expect((await b.request(`/api/cockpit/items/posts/${publishedId}`)).json()).toMatchObject({ title: 'Form post', published: true })
    expect(writes()).toHaveLength(2)
  })

  it('updates and deletes through form posts, with the same ownership rules as the JSON routes', async () => {
    const { b, token } = await loggedIn('editor')
    const created = await b.request(CREATE, { form: { _csrf: token, _success: '/posts/{id}/edit', title: 'To edit', published: 'on' } })
    const id = location(created).pathname.split('/')[2]!
    const updated = await b.request(`/api/cockpit/form-posts/posts/${id}/update`, { form: { _csrf: token, _success: '/posts/{id}/edit?saved=1', _back: `/posts/${id}/edit`, title: 'Edited', body: '' } })
    expect(updated.status).toBe(303)
    expect(`${location(updated).pathname}${location(updated).search}`).toBe(`/posts/${id}/edit?saved=1`)
    // The box was not sent: unchecked, so false.
    expect((await b.request(`/api/cockpit/items/posts/${id}`)).json()).toMatchObject({ title: 'Edited', published: false })

    gateway.emulator.clearRequests()
    const notOwner = await b.request(`/api/cockpit/form-posts/posts/${seed.posts.hello.id}/update`, { form: { _csrf: token, _back: `/posts/${seed.posts.hello.id}/edit`, title: 'Not mine', published: 'on' } })
    expect(notOwner.status).toBe(303)
    expect(location(notOwner).searchParams.get('error')).toBe('NOT_OWNER')
    expect(writes()).toEqual([])

    const deleted = await b.request(`/api/cockpit/form-posts/posts/${id}/delete`, { form: { _csrf: token, _success: '/' } })
    expect(deleted.status).toBe(303)
    expect(location(deleted).pathname).toBe('/')
    expect((await b.request(`/api/cockpit/items/posts/${id}`)).status).toBe(404)
  })

  it('refuses a missing or foreign token, and a guest, by sending the form back with the reason and writing nothing', async () => {
    const { b, token } = await loggedIn('editor')
    const other = await loggedIn('editor')
    const guest = await loggedIn('guest')
    gateway.emulator.clearRequests()
    for (const [who, form] of [
      [b, { _back: '/posts/new', title: 'No token', published: 'on' }],
      [b, { _csrf: other.token, _back: '/posts/new', title: 'Foreign token', published: 'on' }],
      // Its last character changed for another one (never for itself: a token may end in `A`).
      [b, { _csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, _back: '/posts/new', title: 'Altered token' }],
    ] as const) {
      const response = await who.request(CREATE, { form })
      expect(response.status).toBe(303)
      expect(location(response).pathname).toBe('/posts/new')
      expect(location(response).searchParams.get('error')).toBe('CSRF_TOKEN_INVALID')
    }
    const refused = await guest.b.request(CREATE, { form: { _csrf: guest.token, _back: '/posts/new', title: 'Guest' } })
    expect(location(refused).searchParams.get('error')).toBe('FORBIDDEN')
    const anonymous = await browser().request(CREATE, { form: { _csrf: token, _back: '/posts/new', title: 'Anonymous' } })
    expect(location(anonymous).searchParams.get('error')).toBe('UNAUTHORIZED')
    expect(writes()).toEqual([])
  })

  it('keeps the CSRF rules: cross-site and header-less posts are refused, JSON routes stay JSON-only, other methods get 405', async () => {
    const { b, token } = await loggedIn('editor')
    gateway.emulator.clearRequests()
    const form = { _csrf: token, title: 'Cross-site', published: 'on' }
    expect((await b.request(CREATE, { form, origin: 'https://evil.example' })).json().data.code).toBe('ORIGIN_MISMATCH')
    expect((await b.request(CREATE, { form, origin: null })).json().data.code).toBe('ORIGIN_REQUIRED')
    expect((await b.request(CREATE, { form, origin: null, headers: { 'sec-fetch-site': 'same-site' } })).json().data.code).toBe('ORIGIN_MISMATCH')
    // The form route takes forms only; the JSON route still takes JSON only.
    const json = await b.request(CREATE, { json: form })
    expect([json.status, json.json().data.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    const urlencoded = await b.request('/api/cockpit/items/posts', { form })
    expect([urlencoded.status, urlencoded.json().data.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE'])
    const get = await b.request(CREATE)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
    expect((await b.request('/api/cockpit/form-posts/posts/abc/update', { method: 'PUT', form })).headers.get('allow')).toBe('POST')
    expect(writes()).toEqual([])
  })

  it('sends a failed form back with what was typed (as query values) and only same-site targets', async () => {
    const { b, token } = await loggedIn('editor')
    gateway.emulator.clearRequests()
    const invalid = await b.request(CREATE, { form: { _csrf: token, _back: '/posts/new?error=OLD', title: '   ', body: '<script>alert(1)</script>', published: 'on' } })
    const back = location(invalid)
    expect(back.pathname).toBe('/posts/new')
    expect(back.searchParams.getAll('error')).toEqual(['VALIDATION_FAILED'])
    expect(back.searchParams.get('body')).toBe('<script>alert(1)</script>')
    expect(back.searchParams.get('published')).toBe('on')
    expect(back.searchParams.has('_csrf')).toBe(false)
    // The page renders kept values as text only.
    const page = await b.request(`${back.pathname}${back.search}`, { headers: HTML })
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page.text).not.toContain('<script>alert(1)</script>')

    const long = await b.request(CREATE, { form: { _csrf: token, _back: '/posts/new', title: '', body: 'y'.repeat(2001) } })
    expect(location(long).searchParams.get('lost')).toBe('body')
    expect(location(long).searchParams.has('body')).toBe(false)

    const unknownField = await b.request(CREATE, { form: { _csrf: token, _back: '/posts/new', title: 'x', _state: '1', author: 'me' } })
    expect(location(unknownField).searchParams.get('error')).toBe('VALIDATION_FAILED')
    expect(writes()).toEqual([])

    for (const target of ['https://evil.example/x', '//evil.example/x', '/\\evil.example']) {
      const created = await b.request(CREATE, { form: { _csrf: token, _success: target, title: 'Redirect probe', published: 'on' } })
      expect(created.headers.get('location')).toBe('/')
      const failed = await b.request(CREATE, { form: { _csrf: token, _back: target, title: '' } })
      expect(location(failed).origin).toBe(gateway.origin)
      expect(location(failed).pathname).toBe('/')
    }
  })

  it('logs out with an urlencoded form post (303 to a same-site page); JSON callers keep 204', async () => {
    const { b } = await loggedIn('editor')
    const response = await b.request('/api/auth/logout', { form: { redirect: '/posts/new' } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/posts/new')
    expect((await b.request('/api/_auth/session')).json()).toEqual({})

    const evil = await loggedIn('editor')
    expect((await evil.b.request('/api/auth/logout', { form: { redirect: 'https://evil.example/' } })).headers.get('location')).toBe('/')
    const json = await loggedIn('editor')
    expect((await json.b.request('/api/auth/logout', { json: {} })).status).toBe(204)
    const crossSite = await loggedIn('editor')
    expect((await crossSite.b.request('/api/auth/logout', { form: {}, origin: 'https://evil.example' })).status).toBe(403)
    expect((await crossSite.b.request('/api/_auth/session')).json().user).toBeDefined()
  })

  it('logs out everywhere with a form post: every session of the user ends', async () => {
    const one = await loggedIn('guest')
    const two = await loggedIn('guest')
    const response = await one.b.request('/api/auth/logout-all', { form: { redirect: '/' } })
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/')
    expect((await two.b.request('/api/_auth/session')).json()).toEqual({})
    // Again, with no session left: the browser is sent on, not shown an error.
    expect((await one.b.request('/api/auth/logout-all', { form: { redirect: '/' } })).status).toBe(303)
    expect((await browser().request('/api/auth/logout-all', { json: {} })).status).toBe(401)
  })

  it('keeps the username of a failed form login, never the password', async () => {
    const response = await browser().request('/api/auth/login', { form: { username: 'editor', password: 'wrong-password-x' } })
    expect(response.status).toBe(303)
    const back = location(response)
    expect(back.pathname).toBe('/login')
    expect(back.searchParams.get('username')).toBe('editor')
    expect(response.headers.get('location')).not.toContain('wrong-password-x')
  })

  it('answers 404 for a missing or unpublished post and an unknown page, rendered in the app\'s layout', async () => {
    for (const path of ['/posts/does-not-exist', `/posts/${seed.posts.third.id}`, '/no/such/zzpage']) {
      const page = await browser().request(path, { headers: HTML })
      expect(page.status, path).toBe(404)
      expect(page.text).toContain('data-testid="error-title"')
      expect(page.text).toContain('data-testid="login-link"')
      // Fixed texts: the requested path is not echoed into the page's content.
      expect(/<main[\s\S]*<\/main>/.exec(page.text)![0]).not.toContain(path.split('/').pop())
    }
    // The unpublished post exists for those who may read drafts.
    const { b } = await loggedIn('editor')
    expect((await b.request(`/posts/${seed.posts.third.id}`, { headers: HTML })).status).toBe(200)
  })

  it('renders the session pages per request: /account and /login redirect by session', async () => {
    const anonymous = await browser().request('/account', { headers: HTML })
    expect(anonymous.status).toBe(302)
    expect(anonymous.headers.get('location')).toBe('/login?redirect=/account')
    const { b } = await loggedIn('editor')
    const account = await b.request('/account', { headers: HTML })
    expect(account.status).toBe(200)
    expect(account.headers.get('cache-control')).toBe('no-store')
    expect(account.text).toContain('Logged in as <strong>Editor User</strong> (editor).')
    const login = await b.request('/login', { headers: HTML })
    expect(login.status).toBe(302)
    expect(login.headers.get('location')).toBe('/account')
  })

  it('rendered all of that quietly: no unknown-client warning and no router warnings', () => {
    const log = gateway.logs.join('')
    expect(log).not.toContain('client address is unknown')
    expect(log).not.toContain('VUE_ROUTER')
    expect(log).not.toContain('[request error]')
  })
})
