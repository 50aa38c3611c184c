import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_V1, SEED_V2 } from '../../emulator/index'
import type { RecordedRequest, RunningEmulator } from '../../emulator/index'
import { findLeaks, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// Rate limits out of the way (and a patient upstream timeout): this suite is about routes, policy, queries and the cache (hardening.test.ts covers limits).
const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '100000',
  // The emulator shares this test process: on a loaded machine a burst may keep it busy past the default 5 s.
  NUXT_COCKPIT_TIMEOUT: '20000',
}
const WEBHOOK_SECRET = 'e2e-webhook-secret-5b1f0c9d7e3a'
/** A well-formed id that no item has. */
const MISSING_ID = '0000000000000000000000ff'
/** Everything a public item may carry; author fields (`_by`, `_cby`, `_mby`) and internals never leave. */
const PUBLIC_ITEM_KEYS = ['title', 'body', 'published', '_id', '_created', '_modified', '_state']
/** Keys that never go through the gateway (the seed's admin keys, only used here to change data behind its back). */
const ADMIN_KEYS = [SEED_V2.keys.full, SEED_V1.keys.master, SEED_V1.keys.adminAccount, SEED_V1.keys.guestAccount]

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const q = (value: unknown) => encodeURIComponent(typeof value === 'string' ? value : JSON.stringify(value))
const titles = (body: { items: { title: string }[] }) => body.items.map(item => item.title)

describe.each([2, 1] as const)('gateway routes, policy and cache against Cockpit v%i', (version) => {
  const seed = version === 2 ? SEED_V2 : SEED_V1
  const ids = { hello: seed.posts.hello.id, second: seed.posts.second.id, third: seed.posts.third.id }
  const exchanges: RecordedExchange[] = []
  /** Every upstream request of the suite (the emulators' logs are cleared between tests). */
  const upstreamSeen: RecordedRequest[] = []
  let gateway: RunningGateway
  let webhookGateway: RunningGateway
  let staleGateway: RunningGateway
  let anon: TestBrowser
  let guest: TestBrowser
  let editor: TestBrowser
  let admin: TestBrowser

  const isUpstreamList = (r: RecordedRequest) => version === 2
    ? r.method === 'GET' && r.path === '/api/content/items/posts'
    : r.method === 'POST' && r.path === '/api/collections/get/posts'
  const isUpstreamWrite = (r: RecordedRequest) => version === 2
    ? (r.method === 'POST' && r.path.startsWith('/api/content/item/')) || r.method === 'DELETE'
    : /^\/api\/collections\/(save|remove)\//.test(r.path)

  /** Empties an emulator's request log, keeping what it held for the suite-wide checks. */
  function clearUpstream(emulator: RunningEmulator = gateway.emulator): void {
    upstreamSeen.push(...emulator.requests)
    emulator.clearRequests()
  }

  /** Changes data straight on the emulator with its admin key, as someone editing in Cockpit would. */
  async function writeBehindGateway(emulator: RunningEmulator, data: Record<string, unknown>): Promise<Record<string, any>> {
    const [path, headers] = version === 2
      ? ['/api/content/item/posts', { 'api-key': SEED_V2.keys.full }]
      : ['/api/collections/save/posts', { 'cockpit-token': SEED_V1.keys.master }]
    const response = await fetch(`${emulator.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ data }) })
    expect(response.status).toBe(200)
    return await response.json() as Record<string, any>
  }

  async function deleteBehindGateway(emulator: RunningEmulator, id: string): Promise<void> {
    const response = version === 2
      ? await fetch(`${emulator.url}/api/content/item/posts/${id}`, { method: 'DELETE', headers: { 'api-key': SEED_V2.keys.full } })
      : await fetch(`${emulator.url}/api/collections/remove/posts`, { method: 'POST', headers: { 'cockpit-token': SEED_V1.keys.master, 'content-type': 'application/json' }, body: JSON.stringify({ filter: { _id: id } }) })
    expect(response.status).toBe(200)
  }

  /** Whether Cockpit itself holds an item with this id (read with the admin key, around the gateway). */
  async function existsInCockpit(emulator: RunningEmulator, id: string): Promise<boolean> {
    const response = version === 2
      ? await fetch(`${emulator.url}/api/content/item/posts/${id}`, { headers: { 'api-key': SEED_V2.keys.full } })
      : await fetch(`${emulator.url}/api/collections/entry/posts/${id}`, { headers: { 'cockpit-token': SEED_V1.keys.master } })
    await response.text()
    return response.status === 200
  }

  beforeAll(async () => {
    [gateway, webhookGateway, staleGateway] = await Promise.all([
      startGateway({ version, env: GENEROUS_LIMITS }),
      startGateway({ version, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET } }),
      // No circuit breaker here (it has its own tests in upstream-guard.test.ts): every read while Cockpit is
      // down must still reach it, to show what a stale copy covers and what it doesn't.
      startGateway({ version, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET: WEBHOOK_SECRET, NUXT_COCKPIT_GATEWAY_CACHE_MAX_AGE: '1', NUXT_COCKPIT_BREAKER_THRESHOLD: '0' } }),
    ])
    anon = new TestBrowser(gateway, exchanges)
    guest = new TestBrowser(gateway, exchanges)
    editor = new TestBrowser(gateway, exchanges)
    admin = new TestBrowser(gateway, exchanges)
    await Promise.all([guest.login('guest', 'guest-pass-123'), editor.login('editor', 'editor-pass-123'), admin.login('admin', 'admin-pass-123')])
    for (const g of [gateway, webhookGateway, staleGateway]) clearUpstream(g.emulator)
  })
  afterAll(async () => {
    await Promise.all([gateway, webhookGateway, staleGateway].map(g => g?.stop()))
  })

  describe('routes', () => {
    it('lists published posts as { items, total }, without author fields', async () => {
      const response = await anon.request('/api/cockpit/items/posts')
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      const body = response.json()
      expect(Object.keys(body).sort()).toEqual(['items', 'total'])
      expect(titles(body).sort()).toEqual(['Hello Cockpit', 'Second post'])
      expect(body.total).toBe(2)
      for (const item of body.items) {
        expect(PUBLIC_ITEM_KEYS).toEqual(expect.arrayContaining(Object.keys(item)))
        expect(typeof item._id).toBe('string')
      }
    })

    it('filters, sorts, pages, projects fields and passes the locale on', async () => {
      const pair = q({ title: { $in: ['Hello Cockpit', 'Second post'] } })
      const page = await anon.request(`/api/cockpit/items/posts?filter=${pair}&sort=title&limit=1&skip=1`)
      expect(page.status).toBe(200)
      expect(page.json()).toMatchObject({ total: 2 })
      expect(titles(page.json())).toEqual(['Second post'])
      expect(titles((await anon.request(`/api/cockpit/items/posts?filter=${pair}&sort=-title`)).json())).toEqual(['Second post', 'Hello Cockpit'])
      expect(titles((await anon.request(`/api/cockpit/items/posts?filter=${pair}&sort=-_created`)).json())).toEqual(['Second post', 'Hello Cockpit'])
      expect(titles((await anon.request(`/api/cockpit/items/posts?filter=${pair}&sort=_created`)).json())).toEqual(['Hello Cockpit', 'Second post'])

      const projected = (await anon.request(`/api/cockpit/items/posts?filter=${pair}&fields=title`)).json()
      expect(projected.items).toHaveLength(2)
      for (const item of projected.items) {
        expect(Object.keys(item).sort()).toEqual(['_id', 'title'])
      }

      clearUpstream()
      const localized = await anon.request(`/api/cockpit/items/posts?filter=${pair}&locale=de`)
      expect(localized.status).toBe(200)
      const sent = gateway.emulator.requests.filter(isUpstreamList)
      expect(sent).toHaveLength(1)
      if (version === 2) expect(new URLSearchParams(sent[0]!.search).get('locale')).toBe('de')
      else expect(JSON.parse(sent[0]!.body!)).toMatchObject({ lang: 'de' })

      for (const bad of ['sort=body', 'sort=secret', 'sort=,', 'fields=secret', 'fields=title,_by', 'locale=de%2Fx', 'skip=-1', 'skip=x']) {
        const response = await anon.request(`/api/cockpit/items/posts?${bad}`)
        expect(response.status, bad).toBe(400)
        expect(response.json().data.code, bad).toBe('INVALID_QUERY')
      }
    })

    it('answers 20 items by default and at most 100', async () => {
      const created: string[] = []
      try {
        for (let i = 0; i < 21; i++) created.push((await writeBehindGateway(gateway.emulator, { title: `Bulk ${String(i).padStart(2, '0')}`, published: true }))._id)
        const bulk = q({ title: { $regex: '^Bulk ' } })
        clearUpstream()
        const first = await anon.request(`/api/cockpit/items/posts?filter=${bulk}&sort=title`)
        expect(first.json().items).toHaveLength(20)
        expect(first.json().total).toBe(21)
        expect(titles(first.json())[19]).toBe('Bulk 19')
        const sent = gateway.emulator.requests.filter(isUpstreamList)
        expect(sent).toHaveLength(1)
        if (version === 2) expect(new URLSearchParams(sent[0]!.search).get('limit')).toBe('20')
        else expect(JSON.parse(sent[0]!.body!)).toMatchObject({ limit: 20 })
        const rest = await anon.request(`/api/cockpit/items/posts?filter=${bulk}&sort=title&skip=20`)
        expect(titles(rest.json())).toEqual(['Bulk 20'])
        expect((await anon.request(`/api/cockpit/items/posts?filter=${bulk}&limit=100`)).json().items).toHaveLength(21)
        for (const limit of ['101', '1000', '0', '-1', 'abc', '1.5']) {
          const response = await anon.request(`/api/cockpit/items/posts?filter=${bulk}&limit=${limit}`)
          expect(response.status, `limit=${limit}`).toBe(400)
          expect(response.json().data.code).toBe('INVALID_QUERY')
        }
      }
      finally {
        for (const id of created) await deleteBehindGateway(gateway.emulator, id)
      }
    })

    it('reads one item; an item outside the public filter is 404 for visitors and guests', async () => {
      const hello = await anon.request(`/api/cockpit/items/posts/${ids.hello}`)
      expect(hello.status).toBe(200)
      expect(hello.json()).toMatchObject({ _id: ids.hello, title: 'Hello Cockpit', published: true })
      expect(PUBLIC_ITEM_KEYS).toEqual(expect.arrayContaining(Object.keys(hello.json())))
      const projected = (await anon.request(`/api/cockpit/items/posts/${ids.hello}?fields=title`)).json()
      // Only what was asked for, though the public filter's `published` had to be read to check it.
      expect(projected).toEqual({ _id: ids.hello, title: 'Hello Cockpit' })
      expect((await editor.request(`/api/cockpit/items/posts/${ids.third}?fields=title`)).json()).toEqual({ _id: ids.third, title: 'Third post' })
      expect((await anon.request(`/api/cockpit/items/posts/${ids.third}?fields=title`)).status).toBe(404)

      for (const visitor of [anon, guest]) {
        const third = await visitor.request(`/api/cockpit/items/posts/${ids.third}`)
        expect(third.status).toBe(404)
        expect(third.json().data.code).toBe('NOT_FOUND')
      }
      const third = await editor.request(`/api/cockpit/items/posts/${ids.third}`)
      expect(third.status).toBe(200)
      expect(third.json()).toMatchObject({ title: 'Third post', published: false })
      expect(third.headers.get('cache-control')).toBe('private, no-store')
      expect(third.headers.get('x-cockpit-gateway-cache')).toBeNull()

      for (const bad of ['filter=%7B%7D', 'api_key=x', 'limit=1', 'fields=secret']) {
        const response = await anon.request(`/api/cockpit/items/posts/${ids.hello}?${bad}`)
        expect(response.status, bad).toBe(400)
        expect(response.json().data.code).toBe('INVALID_QUERY')
      }
    })

    it('hides unpublished posts from visitors and guests; writers see them, uncached', async () => {
      expect(titles((await anon.request('/api/cockpit/items/posts?sort=title')).json())).not.toContain('Third post')
      const drafts = (await anon.request(`/api/cockpit/items/posts?filter=${q({ published: false })}`)).json()
      expect(drafts).toEqual({ items: [], total: 0 })
      const asGuest = await guest.request('/api/cockpit/items/posts?sort=title')
      expect(titles(asGuest.json())).not.toContain('Third post')
      expect(asGuest.headers.get('x-cockpit-gateway-cache')).toMatch(/^(hit|miss)$/)

      clearUpstream()
      for (let i = 0; i < 2; i++) {
        const asEditor = await editor.request('/api/cockpit/items/posts?sort=title')
        expect(titles(asEditor.json())).toContain('Third post')
        expect(asEditor.headers.get('cache-control')).toBe('private, no-store')
        expect(asEditor.headers.get('x-cockpit-gateway-cache')).toBeNull()
      }
      expect(gateway.emulator.requests.filter(isUpstreamList)).toHaveLength(2)
      expect(titles((await admin.request(`/api/cockpit/items/posts?filter=${q({ published: false })}`)).json())).toEqual(['Third post'])
    })

    it('answers unknown paths under /api/cockpit/ with a JSON 404, never HTML', async () => {
      for (const path of ['/api/cockpit', '/api/cockpit/', '/api/cockpit/nope', '/api/cockpit/items', '/api/cockpit/items/posts/x/y', '/api/cockpit/content/items/posts', '/api/cockpit/collections/get/posts']) {
        const response = await anon.request(path)
        expect(response.status, path).toBe(404)
        expect(response.headers.get('content-type'), path).toMatch(/^application\/json/)
        expect(response.json().data.code, path).toBe('NOT_FOUND')
        expect(response.text).not.toMatch(/<html|<!DOCTYPE/i)
        // A fixed message: the path is never echoed back.
        expect(response.json().statusMessage, path).toBe('Not found')
      }
    })

    it('answers a wrong method on a known path with 405 and Allow', async () => {
      const cases: [string, string, string][] = [
        ['PUT', '/api/cockpit/items/posts', 'GET, POST'],
        ['DELETE', '/api/cockpit/items/posts', 'GET, POST'],
        ['PATCH', '/api/cockpit/items/posts', 'GET, POST'],
        ['POST', `/api/cockpit/items/posts/${ids.hello}`, 'GET, PATCH, DELETE'],
        ['PUT', `/api/cockpit/items/posts/${ids.hello}`, 'GET, PATCH, DELETE'],
        ['GET', '/api/cockpit/webhook', 'POST'],
      ]
      clearUpstream()
      for (const [method, path, allow] of cases) {
        const response = await editor.request(path, method === 'GET' || method === 'DELETE' ? { method } : { method, json: { title: 'x' } })
        expect(response.status, `${method} ${path}`).toBe(405)
        expect(response.headers.get('allow'), `${method} ${path}`).toBe(allow)
        expect(response.json().data.code).toBe('METHOD_NOT_ALLOWED')
      }
      expect(gateway.emulator.requests).toEqual([])
    })
  })

  describe('policy', () => {
    it('refuses writes from visitors (401) and guests (403 FORBIDDEN); Cockpit sees no write', async () => {
      clearUpstream()
      const visitor = await anon.request('/api/cockpit/items/posts', { json: { title: 'Visitor post', published: true } })
      expect(visitor.status).toBe(401)
      expect(visitor.json().data.code).toBe('UNAUTHORIZED')
      const create = await guest.request('/api/cockpit/items/posts', { json: { title: 'Guest post', published: true } })
      expect(create.status).toBe(403)
      expect(create.json().data.code).toBe('FORBIDDEN')
      // Guests are not owners of seed posts either.
      expect((await guest.request(`/api/cockpit/items/posts/${ids.hello}`, { method: 'PATCH', json: { title: 'Guest was here' } })).status).toBe(403)
      expect((await guest.request(`/api/cockpit/items/posts/${ids.hello}`, { method: 'DELETE' })).status).toBe(403)
      expect((await anon.request(`/api/cockpit/items/posts/${ids.hello}`, { method: 'DELETE' })).status).toBe(401)
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toEqual([])
      expect((await anon.request(`/api/cockpit/items/posts/${ids.hello}`)).json().title).toBe('Hello Cockpit')
    })

    it('records the editor as owner of what it creates: it may update and delete it', async () => {
      const created = await editor.request('/api/cockpit/items/posts', { json: { title: 'E2E own post', body: '<p>mine</p>', published: true } })
      expect(created.status).toBe(201)
      const item = created.json()
      expect(item).toMatchObject({ title: 'E2E own post', body: '<p>mine</p>', published: true })
      expect(item._id).toMatch(/^[a-f0-9]{24}$/)
      expect(PUBLIC_ITEM_KEYS).toEqual(expect.arrayContaining(Object.keys(item)))

      const updated = await editor.request(`/api/cockpit/items/posts/${item._id}`, { method: 'PATCH', json: { title: 'E2E own post (edited)' } })
      expect(updated.status).toBe(200)
      // The full stored item, not Cockpit's partial echo.
      expect(updated.json()).toMatchObject({ _id: item._id, title: 'E2E own post (edited)', body: '<p>mine</p>', published: true })
      expect((await anon.request(`/api/cockpit/items/posts/${item._id}`)).json().title).toBe('E2E own post (edited)')

      const removed = await editor.request(`/api/cockpit/items/posts/${item._id}`, { method: 'DELETE' })
      expect(removed.status).toBe(204)
      expect(removed.text).toBe('')
      expect((await anon.request(`/api/cockpit/items/posts/${item._id}`)).status).toBe(404)
      expect(await existsInCockpit(gateway.emulator, item._id)).toBe(false)
    })

    it('refuses an editor a post it did not create (NOT_OWNER) before Cockpit sees a write', async () => {
      clearUpstream()
      for (const init of [{ method: 'PATCH', json: { title: 'Hijacked' } }, { method: 'DELETE' }]) {
        const response = await editor.request(`/api/cockpit/items/posts/${ids.hello}`, init)
        expect(response.status, init.method).toBe(403)
        expect(response.json().data.code).toBe('NOT_OWNER')
      }
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toEqual([])
      expect(await existsInCockpit(gateway.emulator, ids.hello)).toBe(true)
      expect((await editor.request(`/api/cockpit/items/posts/${ids.hello}`)).json().title).toBe('Hello Cockpit')
    })

    it('lets an admin update and delete any post', async () => {
      const mine = (await editor.request('/api/cockpit/items/posts', { json: { title: 'E2E editor post for admin', published: true } })).json()
      const patched = await admin.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'PATCH', json: { body: '<p>admin edit</p>' } })
      expect(patched.status).toBe(200)
      expect(patched.json()).toMatchObject({ _id: mine._id, title: 'E2E editor post for admin', body: '<p>admin edit</p>', published: true })
      // The editor still owns it.
      expect((await editor.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'PATCH', json: { published: false } })).status).toBe(200)

      const seedBody = seed.posts.second.body
      const second = await admin.request(`/api/cockpit/items/posts/${ids.second}`, { method: 'PATCH', json: { body: '<p>admin was here</p>' } })
      expect(second.status).toBe(200)
      expect(second.json()).toMatchObject({ _id: ids.second, title: 'Second post', body: '<p>admin was here</p>' })
      expect((await admin.request(`/api/cockpit/items/posts/${ids.second}`, { method: 'PATCH', json: { body: seedBody } })).json().body).toBe(seedBody)

      expect((await admin.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'DELETE' })).status).toBe(204)
      expect(await existsInCockpit(gateway.emulator, mine._id)).toBe(false)
    })

    it('validates writes against the model schema: 422 VALIDATION_FAILED with issues', async () => {
      const mine = (await editor.request('/api/cockpit/items/posts', { json: { title: 'E2E validation target', published: true } })).json()
      clearUpstream()
      const cases: [string, string, unknown][] = [
        ['POST', '/api/cockpit/items/posts', { title: 'x', published: true, notAField: 1 }],
        ['POST', '/api/cockpit/items/posts', { title: 'x', published: true, author: 'someone-else' }],
        ['POST', '/api/cockpit/items/posts', { title: 'x' }],
        ['POST', '/api/cockpit/items/posts', { title: '', published: true }],
        ['POST', '/api/cockpit/items/posts', { title: 'x', published: 'true' }],
        ['POST', '/api/cockpit/items/posts', ['x']],
        ['PATCH', `/api/cockpit/items/posts/${mine._id}`, { notAField: 1 }],
        ['PATCH', `/api/cockpit/items/posts/${mine._id}`, {}],
        ['PATCH', `/api/cockpit/items/posts/${mine._id}`, { title: 42 }],
      ]
      for (const [method, path, json] of cases) {
        const response = await editor.request(path, { method, json })
        expect(response.status, `${method} ${JSON.stringify(json)}`).toBe(422)
        expect(response.json().data.code).toBe('VALIDATION_FAILED')
        expect(response.json().data.issues.length).toBeGreaterThan(0)
      }
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toEqual([])
      expect((await editor.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'DELETE' })).status).toBe(204)
    })

    it.each([
      ['_id', MISSING_ID],
      ['_created', 1],
      ['_modified', 1],
      ['_by', 'someone'],
      ['_cby', 'someone'],
      ['_mby', 'someone'],
      ['_state', 1],
    ])('refuses the system field %s from an editor with 422', async (field, value) => {
      const mine = (await editor.request('/api/cockpit/items/posts', { json: { title: `E2E system field ${field}`, published: true } })).json()
      clearUpstream()
      const create = await editor.request('/api/cockpit/items/posts', { json: { title: 'x', published: true, [field]: value } })
      expect(create.status).toBe(422)
      expect(create.json().data.code).toBe('VALIDATION_FAILED')
      expect(JSON.stringify(create.json().data.issues)).toContain(field)
      const patch = await editor.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'PATCH', json: { [field]: value } })
      expect(patch.status).toBe(422)
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toEqual([])
      expect((await editor.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'DELETE' })).status).toBe(204)
    })

    if (version === 2) it('accepts _state from an admin (publish right): unpublishing hides the item', async () => {
      const created = await admin.request('/api/cockpit/items/posts', { json: { title: 'E2E admin state', published: true, _state: 1 } })
      expect(created.status).toBe(201)
      expect(created.json()).toMatchObject({ title: 'E2E admin state', _state: 1 })
      const id = created.json()._id
      const unpublished = await admin.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { _state: 0 } })
      expect(unpublished.status).toBe(200)
      expect(unpublished.json()).toMatchObject({ _id: id, _state: 0 })
      // Cockpit v2 never returns a `_state: 0` item through its API.
      expect((await admin.request(`/api/cockpit/items/posts/${id}`)).status).toBe(404)
      expect((await anon.request(`/api/cockpit/items/posts/${id}`)).status).toBe(404)
      // Still the system field for everyone else.
      const mine = (await editor.request('/api/cockpit/items/posts', { json: { title: 'E2E editor state', published: true } })).json()
      expect((await editor.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'PATCH', json: { _state: 0 } })).status).toBe(422)
      expect((await editor.request(`/api/cockpit/items/posts/${mine._id}`, { method: 'DELETE' })).status).toBe(204)
    })

    if (version === 1) it('refuses _state even from an admin (v1 has no _state)', async () => {
      clearUpstream()
      const response = await admin.request('/api/cockpit/items/posts', { json: { title: 'E2E admin state', published: true, _state: 1 } })
      expect(response.status).toBe(422)
      expect(response.json().data.code).toBe('VALIDATION_FAILED')
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toEqual([])
    })

    it('answers 404 NOT_FOUND for a missing item on GET, PATCH and DELETE, and stores nothing', async () => {
      clearUpstream()
      for (const [who, browser] of [['visitor', anon], ['editor', editor], ['admin', admin]] as const) {
        const response = await browser.request(`/api/cockpit/items/posts/${MISSING_ID}`)
        expect(response.status, who).toBe(404)
        expect(response.json().data.code).toBe('NOT_FOUND')
      }
      for (const browser of [editor, admin]) {
        const patch = await browser.request(`/api/cockpit/items/posts/${MISSING_ID}`, { method: 'PATCH', json: { title: 'Ghost' } })
        expect(patch.status).toBe(404)
        expect(patch.json().data.code).toBe('NOT_FOUND')
        const remove = await browser.request(`/api/cockpit/items/posts/${MISSING_ID}`, { method: 'DELETE' })
        expect(remove.status).toBe(404)
        expect(remove.json().data.code).toBe('NOT_FOUND')
      }
      // v2 answers an update of an unknown _id with 200 (and a delete with success): the gateway checks first, so nothing is sent.
      if (version === 2) expect(gateway.emulator.requests.filter(isUpstreamWrite)).toEqual([])
      expect(await existsInCockpit(gateway.emulator, MISSING_ID)).toBe(false)
    })

    it('refuses invalid ids and model names with 400 INVALID_PARAMS before Cockpit', async () => {
      clearUpstream()
      const paths = [
        '/api/cockpit/items/posts/a.b',
        '/api/cockpit/items/posts/..%2F..%2Fsystem',
        '/api/cockpit/items/posts/%2E%2E%2Fusers',
        '/api/cockpit/items/posts/..%5Cusers',
        '/api/cockpit/items/posts/x%00',
        '/api/cockpit/items/posts/%20',
        `/api/cockpit/items/posts/${'a'.repeat(65)}`,
        '/api/cockpit/items/po.sts',
        '/api/cockpit/items/..%2Fposts',
        `/api/cockpit/items/po.sts/${ids.hello}`,
      ]
      for (const path of paths) {
        const isItem = path.split('/').length === 6
        const inits = isItem ? [{ method: 'GET' }, { method: 'PATCH', json: { title: 'x' } }, { method: 'DELETE' }] : [{ method: 'GET' }, { method: 'POST', json: { title: 'x', published: true } }]
        for (const init of inits) {
          const response = await admin.request(path, init)
          expect(response.status, `${init.method} ${path}`).toBe(400)
          expect(response.json().data.code, `${init.method} ${path}`).toBe('INVALID_PARAMS')
        }
      }
      expect(gateway.emulator.requests).toEqual([])
    })

    it('answers an undeclared model with 404 MODEL_NOT_FOUND and no upstream call', async () => {
      clearUpstream()
      const cases: [TestBrowser, string, Record<string, unknown>][] = [
        [anon, '/api/cockpit/items/nope', {}],
        [anon, `/api/cockpit/items/nope/${ids.hello}`, {}],
        [admin, '/api/cockpit/items/users', {}],
        [admin, '/api/cockpit/items/nope', { method: 'POST', json: { title: 'x', published: true } }],
        [admin, `/api/cockpit/items/nope/${ids.hello}`, { method: 'PATCH', json: { title: 'x' } }],
        [admin, `/api/cockpit/items/nope/${ids.hello}`, { method: 'DELETE' }],
      ]
      for (const [browser, path, init] of cases) {
        const response = await browser.request(path, init)
        expect(response.status, path).toBe(404)
        expect(response.json().data.code, path).toBe('MODEL_NOT_FOUND')
      }
      expect(gateway.emulator.requests).toEqual([])
    })
  })

  describe('queries', () => {
    it.each([
      ['$where', { $where: 'this.published == false' }],
      ['$func', { $func: 'return true' }],
      ['$func on a field', { title: { $func: 'x' } }],
      ['an operator where a field belongs', { $gt: 1 }],
      ['$not', { $not: { published: true } }],
      ['an unknown field', { secret: 1 }],
      ['a system field that is not filterable', { _state: 0 }],
      ['a field that is not filterable', { body: 'x' }],
      ['$regex on a field without regex', { published: { $regex: 't' } }],
      ['$regex too long', { title: { $regex: 'a'.repeat(65) } }],
      ['an invalid $regex', { title: { $regex: '(' } }],
      ['$options', { title: { $regex: 'a', $options: 'i' } }],
      ['$exists', { title: { $exists: true } }],
      ['an object where a scalar belongs', { title: { $ne: { $gt: '' } } }],
      ['$in with objects', { title: { $in: [{ $gt: '' }] } }],
      ['$and inside $and', { $and: [{ $and: [{ title: 'x' }] }] }],
      ['$or inside $and', { $and: [{ $or: [{ title: 'x' }] }] }],
      ['an empty $or', { $or: [] }],
      ['an array', [{ title: 'x' }]],
      ['non-JSON', '{title:"x"}'],
      ['not JSON at all', 'published'],
      ['a __proto__ key', '{"__proto__":{"published":false}}'],
      ['a nested __proto__ key', '{"$or":[{"__proto__":{"x":1}}]}'],
      ['a constructor key', '{"constructor":{"prototype":{}}}'],
    ])('refuses a filter with %s: 400 INVALID_QUERY, nothing sent', async (_name, filter) => {
      clearUpstream()
      for (const browser of [anon, editor]) {
        const response = await browser.request(`/api/cockpit/items/posts?filter=${q(filter)}`)
        expect(response.status).toBe(400)
        expect(response.headers.get('content-type')).toMatch(/^application\/json/)
        expect(response.json().data.code).toBe('INVALID_QUERY')
        expect(response.json().data.issues.length).toBeGreaterThan(0)
      }
      expect(gateway.emulator.requests).toEqual([])
    })

    it.each(['api_key=x', 'token=x', 'populate=1', 'rspc=1', 'filter[published]=false', 'fields[title]=1', 'limit=1&limit=2', 'api-key=x', 'lang=de'])(
      'refuses the query parameter %s with 400, never forwarded', async (param) => {
        clearUpstream()
        const response = await anon.request(`/api/cockpit/items/posts?${param}`)
        expect(response.status).toBe(400)
        expect(response.json().data.code).toBe('INVALID_QUERY')
        expect(gateway.emulator.requests).toEqual([])
      },
    )

    it('accepts the safe operators', async () => {
      const cases: [unknown, string[]][] = [
        [{ title: { $in: ['Hello Cockpit', 'Third post'] } }, ['Hello Cockpit']],
        [{ title: { $regex: '^Sec' } }, ['Second post']],
        [{ $or: [{ title: 'Hello Cockpit' }, { title: { $regex: 'ond' } }] }, ['Hello Cockpit', 'Second post']],
        [{ $and: [{ published: true }, { title: { $ne: 'Hello Cockpit' } }, { title: { $in: ['Hello Cockpit', 'Second post'] } }] }, ['Second post']],
        [{ _created: { $gte: seed.posts.second.created }, title: { $nin: ['Bulk 00'] } }, ['Second post']],
      ]
      for (const [filter, expected] of cases) {
        const response = await anon.request(`/api/cockpit/items/posts?filter=${q(filter)}&sort=title`)
        expect(response.status, JSON.stringify(filter)).toBe(200)
        expect(titles(response.json()).filter(t => !t.startsWith('E2E')), JSON.stringify(filter)).toEqual(expected)
      }
      // An editor's filter reaches drafts.
      expect(titles((await editor.request(`/api/cockpit/items/posts?filter=${q({ title: { $regex: '^Third' } })}`)).json())).toEqual(['Third post'])
    })
  })

  describe('cache', () => {
    it('answers a repeated anonymous read from the cache without calling Cockpit', async () => {
      const path = `/api/cockpit/items/posts?filter=${q({ title: 'Hello Cockpit' })}&fields=title`
      const first = await anon.request(path)
      expect(first.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      clearUpstream()
      const second = await new TestBrowser(gateway, exchanges).request(path)
      expect(second.status).toBe(200)
      expect(second.headers.get('x-cockpit-gateway-cache')).toBe('hit')
      expect(second.text).toBe(first.text)
      expect(gateway.emulator.requests).toEqual([])
      // Same for one item.
      const item = `/api/cockpit/items/posts/${ids.second}?fields=title`
      expect((await anon.request(item)).headers.get('x-cockpit-gateway-cache')).toBe('miss')
      clearUpstream()
      expect((await anon.request(item)).headers.get('x-cockpit-gateway-cache')).toBe('hit')
      expect(gateway.emulator.requests).toEqual([])
    })

    it('coalesces 50 concurrent misses into one upstream call', async () => {
      const path = `/api/cockpit/items/posts?filter=${q({ title: { $regex: `^(Hello|Second) ${Date.now()}|^Hello` } })}&sort=-title`
      clearUpstream()
      const answers = await Promise.all(Array.from({ length: 50 }, () => new TestBrowser(gateway, exchanges).request(path)))
      expect(answers.map(a => a.status)).toEqual(Array(50).fill(200))
      expect(new Set(answers.map(a => a.text)).size).toBe(1)
      expect(titles(answers[0]!.json())).toEqual(['Hello Cockpit'])
      expect(gateway.emulator.requests.filter(isUpstreamList)).toHaveLength(1)
      expect(gateway.emulator.requests).toHaveLength(1)
    })

    it('invalidates cached reads after a write through the gateway', async () => {
      const path = `/api/cockpit/items/posts?filter=${q({ title: { $regex: '^E2E fresh' } })}`
      expect((await anon.request(path)).json()).toEqual({ items: [], total: 0 })
      expect((await anon.request(path)).headers.get('x-cockpit-gateway-cache')).toBe('hit')
      const created = (await editor.request('/api/cockpit/items/posts', { json: { title: 'E2E fresh post', published: true } })).json()
      const after = await anon.request(path)
      expect(after.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      expect(titles(after.json())).toEqual(['E2E fresh post'])
      await editor.request(`/api/cockpit/items/posts/${created._id}`, { method: 'PATCH', json: { title: 'E2E fresh post, renamed' } })
      const renamed = await anon.request(path)
      expect(renamed.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      expect(titles(renamed.json())).toEqual(['E2E fresh post, renamed'])
      expect((await anon.request(`/api/cockpit/items/posts/${created._id}`)).json().title).toBe('E2E fresh post, renamed')
      await editor.request(`/api/cockpit/items/posts/${created._id}`, { method: 'DELETE' })
      expect((await anon.request(path)).json()).toEqual({ items: [], total: 0 })
      expect((await anon.request(`/api/cockpit/items/posts/${created._id}`)).status).toBe(404)
    })

    it('invalidates on the webhook with the right secret only; 404 when no secret is configured', async () => {
      const browser = new TestBrowser(webhookGateway, exchanges)
      const path = `/api/cockpit/items/posts/${ids.hello}`
      expect((await browser.request(path)).json().title).toBe('Hello Cockpit')
      await writeBehindGateway(webhookGateway.emulator, { _id: ids.hello, title: 'Hello Webhook' })
      const cached = await browser.request(path)
      expect(cached.headers.get('x-cockpit-gateway-cache')).toBe('hit')
      expect(cached.json().title).toBe('Hello Cockpit')

      for (const headers of [{ 'x-cockpit-gateway-secret': 'wrong-secret' }, { authorization: 'Bearer wrong-secret' }, {}, { 'x-cockpit-gateway-secret': `${WEBHOOK_SECRET}x` }]) {
        const refused = await browser.request('/api/cockpit/webhook', { json: { model: 'posts' }, headers, origin: null })
        expect(refused.status).toBe(401)
        expect(refused.json().data.code).toBe('UNAUTHORIZED')
      }
      expect((await browser.request(path)).json().title).toBe('Hello Cockpit')

      const accepted = await browser.request('/api/cockpit/webhook', { json: { model: 'posts' }, headers: { 'x-cockpit-gateway-secret': WEBHOOK_SECRET }, origin: null })
      expect(accepted.status).toBe(200)
      expect(accepted.json()).toEqual({ invalidated: ['posts'] })
      const fresh = await browser.request(path)
      expect(fresh.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      expect(fresh.json().title).toBe('Hello Webhook')

      // Bearer works too, and a body without a model invalidates every declared model.
      await writeBehindGateway(webhookGateway.emulator, { _id: ids.hello, title: 'Hello Cockpit' })
      const bearer = await browser.request('/api/cockpit/webhook', { json: {}, headers: { authorization: `Bearer ${WEBHOOK_SECRET}` }, origin: null })
      expect(bearer.json()).toEqual({ invalidated: ['posts', 'settings'] })
      expect((await browser.request(path)).json().title).toBe('Hello Cockpit')

      const disabled = await anon.request('/api/cockpit/webhook', { json: { model: 'posts' }, headers: { 'x-cockpit-gateway-secret': WEBHOOK_SECRET }, origin: null })
      expect(disabled.status).toBe(404)
      expect(disabled.json().data.code).toBe('NOT_FOUND')
    })

    it('serves stale data while Cockpit is down, and 503 for a read it never cached', async () => {
      const browser = new TestBrowser(staleGateway, exchanges)
      const path = `/api/cockpit/items/posts?filter=${q({ title: 'Second post' })}`
      const first = await browser.request(path)
      expect(first.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      await sleep(1300)
      staleGateway.emulator.setFault({ kind: 'down' })
      try {
        const stale = await browser.request(path)
        expect(stale.status).toBe(200)
        expect(stale.headers.get('x-cockpit-gateway-cache')).toMatch(/^stale(-error)?$/)
        expect(stale.text).toBe(first.text)

        // After an invalidation the old copy is still the best there is while Cockpit is down.
        await browser.request('/api/cockpit/webhook', { json: { model: 'posts' }, headers: { 'x-cockpit-gateway-secret': WEBHOOK_SECRET }, origin: null })
        const afterInvalidation = await browser.request(path)
        expect(afterInvalidation.status).toBe(200)
        expect(afterInvalidation.headers.get('x-cockpit-gateway-cache')).toBe('stale-error')
        expect(afterInvalidation.text).toBe(first.text)

        for (const never of [`/api/cockpit/items/posts?filter=${q({ title: 'Hello Cockpit' })}`, `/api/cockpit/items/posts/${ids.hello}`]) {
          const down = await browser.request(never)
          expect(down.status, never).toBe(503)
          expect(down.headers.get('content-type')).toMatch(/^application\/json/)
          expect(down.json()).toEqual({ statusCode: 503, statusMessage: 'Upstream unavailable', data: { code: 'UPSTREAM_UNAVAILABLE' } })
        }
      }
      finally {
        staleGateway.emulator.setFault(null)
      }
      const back = await browser.request(path)
      expect(back.status).toBe(200)
      expect(back.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      expect((await browser.request(`/api/cockpit/items/posts?filter=${q({ title: 'Hello Cockpit' })}`)).status).toBe(200)
    })
  })

  it('leaks no key, secret, upstream URL or stack in any response or log line', async () => {
    const servers = [gateway, webhookGateway, staleGateway]
    for (const g of servers) clearUpstream(g.emulator)
    expect(exchanges.length).toBeGreaterThan(200)
    for (const g of servers) {
      expect(findLeaks([...g.secrets, ...ADMIN_KEYS, WEBHOOK_SECRET], exchanges, g.logs)).toEqual([])
      const logs = g.logs.join('')
      expect(logs).not.toMatch(/^\s+at\s/m)
      for (const e of servers) {
        expect(logs).not.toContain(e.emulator.url)
        expect(logs).not.toContain(`:${e.emulator.port}`)
      }
    }
    for (const exchange of exchanges) {
      for (const e of servers) expect(exchange.body, `${exchange.method} ${exchange.path}`).not.toContain(`127.0.0.1:${e.emulator.port}`)
      expect(exchange.body).not.toMatch(/^\s+at\s/m)
    }
    // Keys travel in headers only, and nothing of the browser's query string was passed on as such.
    for (const request of upstreamSeen) {
      expect(request.search, request.path).not.toMatch(/api_key|token|populate|rspc/i)
      for (const key of [...gateway.secrets, ...ADMIN_KEYS]) expect(request.search).not.toContain(key)
    }
    expect(upstreamSeen.length).toBeGreaterThan(50)
  })
})
