import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator } from '../../emulator/index'
import { createCockpitClient } from '../../layers/cockpit-gateway/server/cockpit/cockpit-client'
import { CockpitError } from '../../layers/cockpit-gateway/server/cockpit/cockpit-errors'
import type { CockpitClientOptions } from '../../layers/cockpit-gateway/server/cockpit/cockpit-types'

// Every operation of the client, for v2 and v1, against the Cockpit emulator and its reference seed
// (contract §0). Seed values are spelled out so a changed seed fails loudly here.

type Emulator = Awaited<ReturnType<typeof startEmulator>>

const SEED = {
  2: {
    fullKey: 'API-6ffcc605ece5abf9f40f3a8f48ffec592e975630',
    readKey: 'API-4ca657e22b1b6de9ec5768825275b5fd5567940b',
    wrongKey: 'API-0000000000000000000000000000000000000000',
    authKey: undefined,
  },
  1: {
    fullKey: 'c9a28a6ff3e17bba7521559b8da81e',
    readKey: 'f2a59d21d99f0f96a24c4096fa89d3',
    wrongKey: '000000000000000000000000000000',
    authKey: 'c9a28a6ff3e17bba7521559b8da81e',
  },
} as const

const MISSING_ID = 'ffffffffffffffffffffffff'

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

// Both transports: `node:http` (what Node.js uses by default) and fetch (every other runtime).
const CASES = ([2, 1] as const).flatMap(version => (['node', 'fetch'] as const).map(transport => [version, transport] as const))

describe.each(CASES)('Cockpit v%i client (%s transport) against the emulator', (version, transport) => {
  const seed = SEED[version]
  const full = { key: seed.fullKey }
  let emulator: Emulator

  const client = (options: Partial<CockpitClientOptions> = {}) =>
    createCockpitClient({ url: emulator.url, version, authKey: seed.authKey, retryDelay: 5, timeout: 2000, transport, ...options })
  const upstream = (path: string) => emulator.requests.filter(r => r.path === path)

  beforeAll(async () => {
    emulator = await startEmulator({ version, port: 0 })
  })
  afterAll(async () => {
    await emulator?.close()
  })
  beforeEach(async () => {
    emulator.setFault(null)
    await emulator.reset()
    emulator.clearRequests()
  })

  describe('list', () => {
    it('lists every visible item with its total', async () => {
      const { items, total } = await client().list('posts', {}, full)
      expect(total).toBe(3)
      expect(items.map(i => i.title).sort()).toEqual(['Hello Cockpit', 'Second post', 'Third post'])
      expect(items.every(i => typeof i._id === 'string')).toBe(true)
    })

    it('applies filter, sort, limit, skip and fields, and counts the filter only', async () => {
      const { items, total } = await client().list('posts', {
        filter: { published: true },
        sort: { title: 1 },
        limit: 1,
        skip: 1,
        fields: { title: 1 },
      }, full)
      expect(total).toBe(2)
      expect(items).toHaveLength(1)
      expect(items[0]!.title).toBe('Second post')
      expect(Object.keys(items[0]!).sort()).toEqual(['_id', 'title'])
    })

    it('sorts descending and pages', async () => {
      const c = client()
      const first = await c.list('posts', { sort: { title: -1 }, limit: 2 }, full)
      const second = await c.list('posts', { sort: { title: -1 }, limit: 2, skip: 2 }, full)
      expect(first.items.map(i => i.title)).toEqual(['Third post', 'Second post'])
      expect(second.items.map(i => i.title)).toEqual(['Hello Cockpit'])
      expect([first.total, second.total]).toEqual([3, 3])
    })

    it('the read-only key may list', async () => {
      expect((await client().list('posts', {}, { key: seed.readKey })).total).toBe(3)
    })

    it('unknown model → MODEL_NOT_FOUND', async () => {
      expect(await codeOf(client().list('nope', {}, full))).toBe('MODEL_NOT_FOUND')
    })

    if (version === 2) {
      it('an unknown filter operator (Cockpit\'s 500 system error) → UPSTREAM_ERROR, not retried', async () => {
        expect(await codeOf(client().list('posts', { filter: { title: { $bogus: 1 } } }, full))).toBe('UPSTREAM_ERROR')
        expect(emulator.requests).toHaveLength(1)
      })
    }
  })

  describe('get', () => {
    it('returns the item, or null when it does not exist', async () => {
      const c = client()
      const { items } = await c.list('posts', { filter: { title: 'Second post' } }, full)
      const item = await c.get('posts', items[0]!._id, full)
      expect(item).toMatchObject({ _id: items[0]!._id, title: 'Second post', body: '<p>Second post body</p>', published: true })
      expect(await c.get('posts', MISSING_ID, full)).toBeNull()
    })

    it('unknown model → MODEL_NOT_FOUND', async () => {
      expect(await codeOf(client().get('nope', MISSING_ID, full))).toBe('MODEL_NOT_FOUND')
    })
  })

  describe('create, update, remove', () => {
    it('creates an item and returns it with its _id', async () => {
      const c = client()
      const created = await c.create('posts', { title: 'Created', body: '<p>b</p>', published: false }, full)
      expect(created).toMatchObject({ title: 'Created', body: '<p>b</p>', published: false })
      expect(typeof created._id).toBe('string')
      expect(await c.get('posts', created._id, full)).toMatchObject({ _id: created._id, title: 'Created' })
      expect((await c.list('posts', {}, full)).total).toBe(4)
    })

    it('a partial update returns the full stored item', async () => {
      const c = client()
      const created = await c.create('posts', { title: 'Before', body: '<p>kept</p>', published: true }, full)
      const updated = await c.update('posts', created._id, { title: 'After' }, full)
      expect(updated).toMatchObject({ _id: created._id, title: 'After', body: '<p>kept</p>', published: true })
      expect(updated._created).toBe(created._created)
      expect(await c.get('posts', created._id, full)).toMatchObject({ title: 'After', body: '<p>kept</p>' })
    })

    it('updating a missing id → NOT_FOUND, and nothing is stored', async () => {
      const c = client()
      expect(await codeOf(c.update('posts', MISSING_ID, { title: 'Ghost' }, full))).toBe('NOT_FOUND')
      expect(await c.get('posts', MISSING_ID, full)).toBeNull()
      const { total, items } = await c.list('posts', {}, full)
      expect(total).toBe(3)
      expect(items.some(i => i.title === 'Ghost')).toBe(false)
    })

    it('removes an item; removing a missing id → NOT_FOUND and nothing changes', async () => {
      const c = client()
      const created = await c.create('posts', { title: 'Doomed' }, full)
      await c.remove('posts', created._id, full)
      expect(await c.get('posts', created._id, full)).toBeNull()
      expect(await codeOf(c.remove('posts', MISSING_ID, full))).toBe('NOT_FOUND')
      expect((await c.list('posts', {}, full)).total).toBe(3)
    })

    it('empty data → INVALID_DATA (v2 "Item data is missing", v1 empty 404), nothing stored', async () => {
      const c = client()
      expect(await codeOf(c.create('posts', {}, full))).toBe('INVALID_DATA')
      expect((await c.list('posts', {}, full)).total).toBe(3)
    })

    if (version === 1) {
      it('a create without the required title → INVALID_DATA (v1 enforces `required`)', async () => {
        expect(await codeOf(client().create('posts', { body: '<p>no title</p>' }, full))).toBe('INVALID_DATA')
      })
    }

    it('unknown model → MODEL_NOT_FOUND on every write', async () => {
      const c = client()
      expect(await codeOf(c.create('nope', { title: 'x' }, full))).toBe('MODEL_NOT_FOUND')
      expect(await codeOf(c.update('nope', MISSING_ID, { title: 'x' }, full))).toBe('MODEL_NOT_FOUND')
      expect(await codeOf(c.remove('nope', MISSING_ID, full))).toBe('MODEL_NOT_FOUND')
    })

    it('the read-only key writing → UPSTREAM_FORBIDDEN, nothing stored', async () => {
      const c = client()
      const read = { key: seed.readKey }
      const { items } = await c.list('posts', {}, full)
      const target = items[0]!
      expect(await codeOf(c.create('posts', { title: 'Not allowed' }, read))).toBe('UPSTREAM_FORBIDDEN')
      expect(await codeOf(c.update('posts', target._id, { title: 'Not allowed' }, read))).toBe('UPSTREAM_FORBIDDEN')
      expect(await codeOf(c.remove('posts', target._id, read))).toBe('UPSTREAM_FORBIDDEN')
      const after = await c.list('posts', {}, full)
      expect(after.total).toBe(3)
      expect(after.items.some(i => i.title === 'Not allowed')).toBe(false)
    })
  })

  describe('keys', () => {
    it('a wrong key → UPSTREAM_AUTH_FAILED, for reads and writes', async () => {
      const c = client()
      const wrong = { key: seed.wrongKey }
      expect(await codeOf(c.list('posts', {}, wrong))).toBe('UPSTREAM_AUTH_FAILED')
      expect(await codeOf(c.get('posts', MISSING_ID, wrong))).toBe('UPSTREAM_AUTH_FAILED')
      expect(await codeOf(c.create('posts', { title: 'x' }, wrong))).toBe('UPSTREAM_AUTH_FAILED')
      expect(await codeOf(c.update('posts', MISSING_ID, { title: 'x' }, wrong))).toBe('UPSTREAM_AUTH_FAILED')
      expect(await codeOf(c.remove('posts', MISSING_ID, wrong))).toBe('UPSTREAM_AUTH_FAILED')
    })

    it('a missing key → MISSING_KEY with zero upstream requests', async () => {
      const c = client()
      for (const key of ['', undefined as unknown as string]) {
        expect(await codeOf(c.list('posts', {}, { key }))).toBe('MISSING_KEY')
        expect(await codeOf(c.get('posts', MISSING_ID, { key }))).toBe('MISSING_KEY')
        expect(await codeOf(c.create('posts', { title: 'x' }, { key }))).toBe('MISSING_KEY')
        expect(await codeOf(c.update('posts', MISSING_ID, { title: 'x' }, { key }))).toBe('MISSING_KEY')
        expect(await codeOf(c.remove('posts', MISSING_ID, { key }))).toBe('MISSING_KEY')
      }
      expect(emulator.requests).toHaveLength(0)
    })
  })

  describe('authenticate', () => {
    it('accepts good credentials', async () => {
      expect(await client().authenticate('editor', 'editor-pass-123')).toEqual({
        id: expect.any(String),
        username: 'editor',
        name: 'Editor User',
        email: 'editor@example.test',
        role: 'editor',
      })
      expect(await client().authenticate('guest', 'guest-pass-123')).toMatchObject({ username: 'guest', role: 'guest' })
    })

    it('resolves null for a wrong password and for an unknown user alike', async () => {
      expect(await client().authenticate('editor', 'wrong-pass')).toBeNull()
      expect(await client().authenticate('nobody', 'editor-pass-123')).toBeNull()
    })

    it('can log the same user in twice in a row (fresh session each time)', async () => {
      const c = client()
      expect(await c.authenticate('admin', 'admin-pass-123')).toMatchObject({ role: 'admin' })
      expect(await c.authenticate('admin', 'admin-pass-123')).toMatchObject({ role: 'admin' })
    })

    it('the result carries no key of any kind', async () => {
      const user = await client().authenticate('editor', 'editor-pass-123')
      const text = JSON.stringify(user)
      expect(text).not.toMatch(/api_?key|apiKey|account-|USR-|password/i)
      expect(text).not.toContain('74c726f8de971e05e5523934918f7058')
      expect(text).not.toContain('da7031273a73ae299876608f160b18e120677850')
    })

    if (version === 1) {
      it('a refused authKey → UPSTREAM_AUTH_FAILED; no authKey → MISSING_KEY without a request', async () => {
        expect(await codeOf(client({ authKey: seed.wrongKey }).authenticate('editor', 'editor-pass-123'))).toBe('UPSTREAM_AUTH_FAILED')
        emulator.clearRequests()
        expect(await codeOf(client({ authKey: '' }).authenticate('editor', 'editor-pass-123'))).toBe('MISSING_KEY')
        expect(emulator.requests).toHaveLength(0)
      })
    }
  })

  describe('faults', () => {
    it('a slow upstream → UPSTREAM_TIMEOUT', async () => {
      emulator.setFault({ kind: 'delay', ms: 600 })
      const c = client({ timeout: 150 })
      expect(await codeOf(c.list('posts', {}, full))).toBe('UPSTREAM_TIMEOUT')
      expect(await codeOf(c.create('posts', { title: 'slow' }, full))).toBe('UPSTREAM_TIMEOUT')
    })

    it('503 on a read is retried exactly once, then UPSTREAM_UNAVAILABLE', async () => {
      emulator.setFault({ kind: 'status', status: 503 })
      const path = version === 2 ? '/api/content/items/posts' : '/api/collections/get/posts'
      expect(await codeOf(client().list('posts', {}, full))).toBe('UPSTREAM_UNAVAILABLE')
      expect(upstream(path)).toHaveLength(2)
    })

    it('502 on a get is retried exactly once', async () => {
      emulator.setFault({ kind: 'status', status: 502 })
      expect(await codeOf(client().get('posts', MISSING_ID, full))).toBe('UPSTREAM_UNAVAILABLE')
      expect(emulator.requests).toHaveLength(2)
    })

    it('503 on a write is not retried', async () => {
      emulator.setFault({ kind: 'status', status: 503 })
      const path = version === 2 ? '/api/content/item/posts' : '/api/collections/save/posts'
      expect(await codeOf(client().create('posts', { title: 'once' }, full))).toBe('UPSTREAM_UNAVAILABLE')
      expect(upstream(path)).toHaveLength(1)
      expect(emulator.requests).toHaveLength(1)
    })

    it('500 → UPSTREAM_ERROR, not retried', async () => {
      emulator.setFault({ kind: 'status', status: 500 })
      expect(await codeOf(client().list('posts', {}, full))).toBe('UPSTREAM_ERROR')
      expect(emulator.requests).toHaveLength(1)
    })

    it('a down upstream → UPSTREAM_UNAVAILABLE', async () => {
      emulator.setFault({ kind: 'down' })
      const c = client()
      expect(await codeOf(c.list('posts', {}, full))).toBe('UPSTREAM_UNAVAILABLE')
      expect(await codeOf(c.create('posts', { title: 'x' }, full))).toBe('UPSTREAM_UNAVAILABLE')
      expect(await codeOf(c.authenticate('editor', 'editor-pass-123'))).toBe('UPSTREAM_UNAVAILABLE')
    })

    it('a refused connection is marked as not sent; a connection cut after the request went out is not', async () => {
      const notSent = async (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: CockpitError) => `${error.code} notSent=${error.notSent === true}`)
      const closedPort = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo
          probe.close(() => resolve(port))
        })
      })
      const refused = client({ url: `http://127.0.0.1:${closedPort}` })
      expect(await notSent(refused.create('posts', { title: 'never sent' }, full))).toBe('UPSTREAM_UNAVAILABLE notSent=true')
      // A read is retried once: both attempts were refused, so neither left.
      expect(await notSent(refused.list('posts', {}, full))).toBe('UPSTREAM_UNAVAILABLE notSent=true')
      emulator.setFault({ kind: 'down' })
      expect(await notSent(client().create('posts', { title: 'cut' }, full))).toBe('UPSTREAM_UNAVAILABLE notSent=false')
    })

    it('a read recovers when the retry succeeds', async () => {
      emulator.setFault({ kind: 'status', status: 503 })
      const c = client({
        hooks: { onResponse: ({ status }) => void (status === 503 && emulator.setFault(null)) },
      })
      expect((await c.list('posts', {}, full)).total).toBe(3)
    })
  })

  describe('health', () => {
    it('true when Cockpit answers, false when down or failing; never throws', async () => {
      const c = client({ timeout: 150 })
      expect(await c.health()).toBe(true)
      emulator.setFault({ kind: 'down' })
      expect(await c.health()).toBe(false)
      emulator.setFault({ kind: 'status', status: 503 })
      expect(await c.health()).toBe(false)
      emulator.setFault({ kind: 'delay', ms: 600 })
      expect(await c.health()).toBe(false)
    })

    it('sends no key', async () => {
      await client().health()
      expect(JSON.stringify(emulator.requests)).not.toContain(seed.fullKey)
    })
  })

  describe('hooks', () => {
    it('run around every upstream call and never see the key', async () => {
      const seen: unknown[] = []
      const c = client({
        hooks: {
          onRequest: ({ method, operation, model, headers }) => void seen.push({ method, operation, model, headers: [...headers] }),
          onResponse: context => void seen.push(context),
        },
      })
      await c.list('posts', {}, full)
      const created = await c.create('posts', { title: 'hooked' }, full)
      await c.update('posts', created._id, { title: 'hooked 2' }, full)
      await c.authenticate('editor', 'editor-pass-123')
      expect(seen).toHaveLength(2 * emulator.requests.length)
      const text = JSON.stringify(seen)
      expect(text).not.toContain(seed.fullKey)
      expect(text).not.toContain('editor-pass-123')
      expect(seen).toContainEqual(expect.objectContaining({ method: version === 2 ? 'GET' : 'POST', operation: 'list', model: 'posts', status: 200 }))
    })
  })
})
