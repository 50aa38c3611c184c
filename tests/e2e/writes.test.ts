import { createHash } from 'node:crypto'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { SEED_V1, SEED_V2 } from '../../emulator/index'
import type { RecordedRequest, RunningEmulator } from '../../emulator/index'
import { startGateway, TestBrowser } from '../support/gateway-server'
import type { RunningGateway } from '../support/gateway-server'

// Issue 13, items 1 and 2: idempotent writes and optimistic concurrency, on the built server against the emulator.
const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '100000',
  NUXT_COCKPIT_TIMEOUT: '20000',
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const newKey = () => `e2e-${crypto.randomUUID()}`

describe.each([2, 1] as const)('idempotent writes and If-Match against Cockpit v%i', (version) => {
  const seed = version === 2 ? SEED_V2 : SEED_V1
  let gateway: RunningGateway
  /** Two instances sharing one Redis and one Cockpit. */
  let shared: [RunningGateway, RunningGateway]
  let shortTtl: RunningGateway
  let slow: RunningGateway
  let editor: TestBrowser
  let admin: TestBrowser

  const isUpstreamCreate = (r: RecordedRequest) => version === 2
    ? r.method === 'POST' && r.path === '/api/content/item/posts' && !String(r.body).includes('"_id"')
    : r.method === 'POST' && r.path === '/api/collections/save/posts' && !String(r.body).includes('"_id"')
  const isUpstreamWrite = (r: RecordedRequest) => version === 2
    ? (r.method === 'POST' && r.path.startsWith('/api/content/item/')) || r.method === 'DELETE'
    : /^\/api\/collections\/(save|remove)\//.test(r.path)

  /** Items titled `title` as Cockpit holds them (read with the admin key, around the gateway). */
  async function storedWithTitle(emulator: RunningEmulator, title: string): Promise<Record<string, any>[]> {
    const response = version === 2
      ? await fetch(`${emulator.url}/api/content/items/posts?filter=${encodeURIComponent(JSON.stringify({ title }))}`, { headers: { 'api-key': SEED_V2.keys.full } })
      : await fetch(`${emulator.url}/api/collections/get/posts`, { method: 'POST', headers: { 'cockpit-token': SEED_V1.keys.master, 'content-type': 'application/json' }, body: JSON.stringify({ filter: { title } }) })
    const body = await response.json() as any
    return version === 2 ? body : body.entries
  }

  async function storedItem(emulator: RunningEmulator, id: string): Promise<Record<string, any> | null> {
    const response = version === 2
      ? await fetch(`${emulator.url}/api/content/item/posts/${id}`, { headers: { 'api-key': SEED_V2.keys.full } })
      : await fetch(`${emulator.url}/api/collections/entry/posts/${id}`, { headers: { 'cockpit-token': SEED_V1.keys.master } })
    const text = await response.text()
    return response.status === 200 ? JSON.parse(text) : null
  }

  /** Changes an item straight in Cockpit, as an editor working in Cockpit's own UI would. */
  async function writeBehindGateway(emulator: RunningEmulator, data: Record<string, unknown>): Promise<void> {
    const [path, headers] = version === 2
      ? ['/api/content/item/posts', { 'api-key': SEED_V2.keys.full }]
      : ['/api/collections/save/posts', { 'cockpit-token': SEED_V1.keys.master }]
    const response = await fetch(`${emulator.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ data }) })
    expect(response.status).toBe(200)
    await response.text()
  }

  async function createPost(browser: TestBrowser, title: string): Promise<{ id: string, etag: string }> {
    const response = await browser.request('/api/cockpit/items/posts', { json: { title, body: 'b', published: true } })
    expect(response.status).toBe(201)
    return { id: response.json()._id, etag: response.headers.get('etag')! }
  }

  beforeAll(async () => {
    const redisUrl = inject('redisUrl')
    const onRedis = { ...GENEROUS_LIMITS, NUXT_COCKPIT_GATEWAY_REDIS_URL: redisUrl }
    gateway = await startGateway({ version, env: GENEROUS_LIMITS })
    const first = await startGateway({ version, env: onRedis })
    shared = [first, await startGateway({ version, env: onRedis, emulator: first.emulator })]
    shortTtl = await startGateway({ version, env: { ...onRedis, NUXT_COCKPIT_GATEWAY_WRITES_IDEMPOTENCY_TTL: '2' } })
    slow = await startGateway({ version, env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_TIMEOUT: '2500' } })
    editor = new TestBrowser(gateway)
    admin = new TestBrowser(gateway)
    await Promise.all([editor.login('editor', 'editor-pass-123'), admin.login('admin', 'admin-pass-123')])
  })
  afterAll(async () => {
    await Promise.all([gateway, ...(shared ?? []), shortTtl, slow].map(g => g?.stop()))
  })

  describe('Idempotency-Key', () => {
    it('replays a repeated create without calling Cockpit, and refuses the key with another body', async () => {
      const key = newKey()
      const title = `idem-replay-${key}`
      const first = await editor.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      expect(first.status).toBe(201)
      expect(first.headers.get('idempotent-replayed')).toBeNull()
      gateway.emulator.clearRequests()
      // The same body with its fields in another order is the same request.
      const again = await editor.request('/api/cockpit/items/posts', { json: { published: true, title }, headers: { 'idempotency-key': key } })
      expect(again.status).toBe(201)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(again.json()).toEqual(first.json())
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'))
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toHaveLength(0)

      const reused = await editor.request('/api/cockpit/items/posts', { json: { title: `${title}-other`, published: true }, headers: { 'idempotency-key': key } })
      expect(reused.status).toBe(422)
      expect(reused.json().data.code).toBe('IDEMPOTENCY_KEY_REUSED')
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toHaveLength(0)
      expect(await storedWithTitle(gateway.emulator, title)).toHaveLength(1)
      expect(await storedWithTitle(gateway.emulator, `${title}-other`)).toHaveLength(0)
    })

    it('refuses a malformed key with 400 and writes nothing', async () => {
      const title = `idem-bad-${newKey()}`
      for (const bad of ['', 'x'.repeat(129)]) {
        const response = await editor.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': bad } })
        expect(response.status, JSON.stringify(bad)).toBe(400)
        expect(response.json().data.code).toBe('INVALID_IDEMPOTENCY_KEY')
      }
      expect(await storedWithTitle(gateway.emulator, title)).toHaveLength(0)
      const longest = await editor.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': `k ${'~'.repeat(126)}` } })
      expect(longest.status).toBe(201)
    })

    it('keeps keys per user: another user with the same key and body runs its own write', async () => {
      const key = newKey()
      const title = `idem-user-${key}`
      const mine = await editor.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      const theirs = await admin.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      expect([mine.status, theirs.status]).toEqual([201, 201])
      expect(theirs.headers.get('idempotent-replayed')).toBeNull()
      expect(theirs.json()._id).not.toBe(mine.json()._id)
      expect(await storedWithTitle(gateway.emulator, title)).toHaveLength(2)
    })

    it('runs 20 concurrent duplicates once on one instance', async () => {
      const key = newKey()
      const title = `idem-burst-${key}`
      gateway.emulator.clearRequests()
      const answers = await Promise.all(Array.from({ length: 20 }, () => editor.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })))
      expect(answers.map(a => a.status)).toEqual(Array.from({ length: 20 }, () => 201))
      expect(new Set(answers.map(a => a.json()._id)).size).toBe(1)
      expect(answers.filter(a => a.headers.get('idempotent-replayed') === 'true')).toHaveLength(19)
      expect(gateway.emulator.requests.filter(isUpstreamCreate)).toHaveLength(1)
      expect(await storedWithTitle(gateway.emulator, title)).toHaveLength(1)
    })

    it('runs 20 concurrent duplicates once across two instances sharing Redis', async () => {
      const first = new TestBrowser(shared[0]!)
      // One user, one session cookie, used on both instances (they share the session password and state).
      await first.login('editor', 'editor-pass-123')
      const browsers = [first, first.copy(shared[1]!)]
      const key = newKey()
      const title = `idem-shared-${key}`
      shared[0].emulator.clearRequests()
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => browsers[i % 2]!.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })))
      expect(answers.map(a => a.status)).toEqual(Array.from({ length: 20 }, () => 201))
      expect(new Set(answers.map(a => a.json()._id)).size).toBe(1)
      expect(shared[0].emulator.requests.filter(isUpstreamCreate)).toHaveLength(1)
      expect(await storedWithTitle(shared[0].emulator, title)).toHaveLength(1)
    })

    it('still replays on the instance that ran the write when the store lost the record', async () => {
      const browser = new TestBrowser(shared[0])
      await browser.login('editor', 'editor-pass-123')
      const userId = (await browser.request('/api/_auth/session')).json().user.id as string
      const key = newKey()
      const title = `idem-lost-${key}`
      const send = () => browser.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      expect((await send()).status).toBe(201)
      const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 })
      try {
        // As a Redis restart without persistence would: the record is gone from the store.
        const recordKey = `cockpit-gateway:state:idempotency:${createHash('sha256').update(`${userId}\n${key}`).digest('hex')}`
        expect(await redis.del(recordKey)).toBe(1)
      }
      finally {
        redis.disconnect()
      }
      shared[0].emulator.clearRequests()
      const again = await send()
      expect(again.status).toBe(201)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(shared[0].emulator.requests.filter(isUpstreamCreate)).toHaveLength(0)
      expect(await storedWithTitle(shared[0].emulator, title)).toHaveLength(1)
    })

    it('replays a repeated update and delete without calling Cockpit', async () => {
      const { id } = await createPost(editor, `idem-patch-${newKey()}`)
      const key = newKey()
      const first = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { title: 'patched once' }, headers: { 'idempotency-key': key } })
      expect(first.status).toBe(200)
      gateway.emulator.clearRequests()
      const again = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { title: 'patched once' }, headers: { 'idempotency-key': key } })
      expect(again.status).toBe(200)
      expect(again.headers.get('idempotent-replayed')).toBe('true')
      expect(again.json()).toEqual(first.json())
      expect(gateway.emulator.requests).toHaveLength(0)

      const deleteKey = newKey()
      const deleted = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'DELETE', headers: { 'idempotency-key': deleteKey } })
      expect(deleted.status).toBe(204)
      gateway.emulator.clearRequests()
      const deletedAgain = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'DELETE', headers: { 'idempotency-key': deleteKey } })
      expect(deletedAgain.status).toBe(204)
      expect(deletedAgain.headers.get('idempotent-replayed')).toBe('true')
      expect(gateway.emulator.requests).toHaveLength(0)
    })

    it('releases the key when the write was refused before reaching Cockpit', async () => {
      const key = newKey()
      const title = `idem-refused-${key}`
      const refused = await editor.request('/api/cockpit/items/posts', { json: { title, published: 'yes' }, headers: { 'idempotency-key': key } })
      expect(refused.status).toBe(422)
      expect(refused.json().data.code).toBe('VALIDATION_FAILED')
      // The same key with the corrected body is a different request: it runs.
      const fixed = await editor.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      expect(fixed.status).toBe(201)
      expect(fixed.headers.get('idempotent-replayed')).toBeNull()
    })

    it('forgets a key after the configured TTL', async () => {
      const browser = new TestBrowser(shortTtl)
      await browser.login('editor', 'editor-pass-123')
      const key = newKey()
      const title = `idem-ttl-${key}`
      const send = () => browser.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      expect((await send()).status).toBe(201)
      expect((await send()).headers.get('idempotent-replayed')).toBe('true')
      await sleep(3200)
      const late = await send()
      expect(late.status).toBe(201)
      expect(late.headers.get('idempotent-replayed')).toBeNull()
      expect(await storedWithTitle(shortTtl.emulator, title)).toHaveLength(2)
    })

    it('never runs a create twice when its outcome is unknown (Cockpit timed out)', async () => {
      const browser = new TestBrowser(slow)
      await browser.login('editor', 'editor-pass-123')
      const key = newKey()
      const title = `idem-unknown-${key}`
      const send = () => browser.request('/api/cockpit/items/posts', { json: { title, published: true }, headers: { 'idempotency-key': key } })
      slow.emulator.setFault({ kind: 'delay', ms: 4000 })
      try {
        const first = await send()
        expect(first.status).toBe(504)
        expect(first.json().data.code).toBe('UPSTREAM_TIMEOUT')
      }
      finally {
        slow.emulator.setFault(null)
      }
      slow.emulator.clearRequests()
      const retry = await send()
      expect(retry.status).toBe(409)
      expect(retry.json().data.code).toBe('IDEMPOTENCY_OUTCOME_UNKNOWN')
      expect(slow.emulator.requests.filter(isUpstreamCreate)).toHaveLength(0)
      // Whatever Cockpit did with the first attempt, the item exists at most once.
      await sleep(2500)
      expect((await storedWithTitle(slow.emulator, title)).length).toBeLessThanOrEqual(1)
    })
  })

  describe('HTML form twins', () => {
    it('store a double-submitted form once (_idempotency) and refuse a stale one (_etag) with ?error=CONFLICT', async () => {
      const token = (await editor.request('/api/_auth/session')).json().formToken as string
      const key = newKey()
      const title = `form-idem-${key}`
      const form = { _csrf: token, _success: '/posts/{id}/edit', _back: '/posts/new', _idempotency: key, title, published: 'on' }
      gateway.emulator.clearRequests()
      const [first, second] = await Promise.all([editor.request('/api/cockpit/form-posts/posts/create', { form }), editor.request('/api/cockpit/form-posts/posts/create', { form })])
      expect([first.status, second.status]).toEqual([303, 303])
      expect(second.headers.get('location')).toBe(first.headers.get('location'))
      expect(gateway.emulator.requests.filter(isUpstreamCreate)).toHaveLength(1)
      const stored = await storedWithTitle(gateway.emulator, title)
      expect(stored).toHaveLength(1)

      const id = stored[0]!._id as string
      const etag = (await editor.request(`/api/cockpit/items/posts/${id}`)).headers.get('etag')!
      await writeBehindGateway(gateway.emulator, { _id: id, body: 'changed in Cockpit' })
      const stale = await editor.request(`/api/cockpit/form-posts/posts/${id}/update`, { form: { _csrf: token, _success: '/posts/{id}/edit?saved=1', _back: `/posts/${id}/edit`, _etag: etag, title: 'mine', published: 'on' } })
      expect(stale.status).toBe(303)
      expect(new URL(stale.headers.get('location')!, 'http://x').searchParams.get('error')).toBe('CONFLICT')
      expect((await storedItem(gateway.emulator, id))?.title).toBe(title)

      const badKey = await editor.request('/api/cockpit/form-posts/posts/create', { form: { ...form, _idempotency: 'x'.repeat(129) } })
      expect(new URL(badKey.headers.get('location')!, 'http://x').searchParams.get('error')).toBe('INVALID_IDEMPOTENCY_KEY')
    })
  })

  describe('ETag and If-Match', () => {
    it('gives single-item reads an ETag that changes with every stored change, even within a second', async () => {
      const id = seed.posts.second.id
      const first = await admin.request(`/api/cockpit/items/posts/${id}`)
      const etag = first.headers.get('etag')
      expect(etag).toMatch(/^"[\w-]{24}"$/)
      expect((await new TestBrowser(gateway).request(`/api/cockpit/items/posts/${id}`)).headers.get('etag')).toBe(etag)
      // A projection is not the stored item: no ETag.
      expect((await admin.request(`/api/cockpit/items/posts/${id}?fields=title`)).headers.get('etag')).toBeNull()

      const a = await admin.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: 'etag a' }, headers: { 'if-match': etag! } })
      expect(a.status).toBe(200)
      const b = await admin.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: 'etag b' }, headers: { 'if-match': a.headers.get('etag')! } })
      expect(b.status).toBe(200)
      expect(new Set([etag, a.headers.get('etag'), b.headers.get('etag')]).size).toBe(3)
      expect((await admin.request(`/api/cockpit/items/posts/${id}`)).headers.get('etag')).toBe(b.headers.get('etag'))
    })

    it('answers 409 CONFLICT with the current ETag to a stale If-Match, and writes nothing', async () => {
      const { id, etag } = await createPost(editor, `conflict-${newKey()}`)
      // Another editor saves first, through the gateway.
      const other = await admin.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: 'the other editor was first' }, headers: { 'if-match': etag } })
      expect(other.status).toBe(200)
      gateway.emulator.clearRequests()
      const stale = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: 'mine' }, headers: { 'if-match': etag } })
      expect(stale.status).toBe(409)
      expect(stale.json().data.code).toBe('CONFLICT')
      expect(stale.headers.get('etag')).toBe(other.headers.get('etag'))
      expect(gateway.emulator.requests.filter(isUpstreamWrite)).toHaveLength(0)
      expect((await storedItem(gateway.emulator, id))?.body).toBe('the other editor was first')

      const staleDelete = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'DELETE', headers: { 'if-match': etag } })
      expect(staleDelete.status).toBe(409)
      expect(staleDelete.json().data.code).toBe('CONFLICT')
      expect(await storedItem(gateway.emulator, id)).not.toBeNull()

      const current = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'DELETE', headers: { 'if-match': stale.headers.get('etag')! } })
      expect(current.status).toBe(204)
      expect(await storedItem(gateway.emulator, id)).toBeNull()
    })

    it('sees an edit made in Cockpit itself', async () => {
      const { id, etag } = await createPost(editor, `behind-${newKey()}`)
      await writeBehindGateway(gateway.emulator, { _id: id, body: 'edited in Cockpit' })
      const stale = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: 'mine' }, headers: { 'if-match': etag } })
      expect(stale.status).toBe(409)
      expect((await storedItem(gateway.emulator, id))?.body).toBe('edited in Cockpit')
      const read = await editor.request(`/api/cockpit/items/posts/${id}`)
      expect(read.headers.get('etag')).toBe(stale.headers.get('etag'))
    })

    it('answers the permission error, not the conflict, to someone who may not write the item', async () => {
      const { id, etag } = await createPost(admin, `perm-${newKey()}`)
      const response = await editor.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: 'x' }, headers: { 'if-match': `${etag.slice(0, -2)}x"` } })
      expect(response.status).toBe(403)
      expect(response.json().data.code).toBe('NOT_OWNER')
      expect(response.headers.get('etag')).toBeNull()
    })

    it('serialises conditional writes across two instances: one of two racing saves wins, the other gets 409', async () => {
      const first = new TestBrowser(shared[0]!)
      await first.login('admin', 'admin-pass-123')
      const browsers = [first, first.copy(shared[1]!)]
      const { id, etag } = await createPost(browsers[0]!, `race-${newKey()}`)
      const answers = await Promise.all(browsers.map((b, i) => b.request(`/api/cockpit/items/posts/${id}`, { method: 'PATCH', json: { body: `writer ${i}` }, headers: { 'if-match': etag } })))
      expect(answers.map(a => a.status).sort()).toEqual([200, 409])
      const winner = answers.find(a => a.status === 200)!
      expect((await storedItem(shared[0].emulator, id))?.body).toBe(winner.json().body)
    })
  })
})
