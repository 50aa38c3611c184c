import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startEmulator } from '../../emulator/index'
import { createCockpitClient } from '../../layers/cockpit-gateway/server/cockpit/cockpit-client'
import { cockpitErrorToH3, CockpitError } from '../../layers/cockpit-gateway/server/cockpit/cockpit-errors'
import type { CockpitAdapter } from '../../layers/cockpit-gateway/server/cockpit/cockpit-types'

// Security properties of the client: a key travels only in its one header, and nothing a caller
// can see or log (errors, their data, console output, results) holds a key, a password, a user's
// api key or the upstream URL.

type Emulator = Awaited<ReturnType<typeof startEmulator>>

const KEYS = {
  2: {
    header: 'api-key',
    full: 'API-6ffcc605ece5abf9f40f3a8f48ffec592e975630',
    read: 'API-4ca657e22b1b6de9ec5768825275b5fd5567940b',
    user: 'USR-da7031273a73ae299876608f160b18e120677850',
    wrong: 'API-0000000000000000000000000000000000000000',
  },
  1: {
    header: 'cockpit-token',
    full: 'c9a28a6ff3e17bba7521559b8da81e',
    read: 'f2a59d21d99f0f96a24c4096fa89d3',
    user: 'account-74c726f8de971e05e5523934918f7058',
    wrong: '000000000000000000000000000000',
  },
} as const

const SECRETS = [
  ...Object.values(KEYS[2]).filter(v => v !== 'api-key'),
  ...Object.values(KEYS[1]).filter(v => v !== 'cockpit-token'),
  // the bare hex of the user keys, in case a prefix is stripped somewhere
  'da7031273a73ae299876608f160b18e120677850',
  '74c726f8de971e05e5523934918f7058',
  'editor-pass-123',
  'wrong-pass-456',
]
const MISSING_ID = 'ffffffffffffffffffffffff'

function headerValues(headers: unknown): [string, string][] {
  if (headers instanceof Headers) return [...headers]
  return Object.entries((headers ?? {}) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)])
}

describe.each([2, 1] as const)('Cockpit v%i client leaks nothing', (version) => {
  const keys = KEYS[version]
  let emulator: Emulator
  let logged: string[]
  const spies: ReturnType<typeof vi.spyOn>[] = []

  const client = (timeout = 2000): CockpitAdapter =>
    createCockpitClient({ url: emulator.url, version, authKey: version === 1 ? keys.full : undefined, retryDelay: 1, timeout })

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
    logged = []
    for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
      spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        logged.push(args.map(a => (a instanceof Error ? `${a.stack} ${JSON.stringify(a)}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' '))
      }))
    }
  })
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore()
  })

  /** Everything observable about an error, as text. */
  function exposed(error: unknown): string {
    expect(error).toBeInstanceOf(CockpitError)
    const e = error as CockpitError
    expect((e as { cause?: unknown }).cause).toBeUndefined()
    const h3 = cockpitErrorToH3(e)
    return [e.message, String(e), JSON.stringify(e), e.stack, JSON.stringify(h3), JSON.stringify(h3.data), h3.message, h3.statusMessage].join('\n')
  }

  function assertClean(text: string) {
    const { host } = new URL(emulator.url)
    for (const secret of SECRETS) expect(text).not.toContain(secret)
    expect(text).not.toContain(emulator.url)
    expect(text).not.toContain(host)
    expect(text).not.toMatch(/127\.0\.0\.1|localhost|ECONNREFUSED/)
  }

  async function failing(promise: Promise<unknown>): Promise<string> {
    const error = await promise.then(
      () => {
        throw new Error('expected a failure')
      },
      e => e,
    )
    return exposed(error)
  }

  it('puts a key only in its one header, on every recorded request', async () => {
    const c = client()
    for (const key of [keys.full, keys.read, keys.user, keys.wrong]) {
      const opts = { key }
      await c.list('posts', { filter: { published: true }, sort: { title: 1 }, fields: { title: 1 }, limit: 2, skip: 0 }, opts).catch(() => {})
      const created = await c.create('posts', { title: `by ${key.slice(0, 4)}` }, opts).catch(() => null)
      await c.get('posts', created?._id ?? MISSING_ID, opts).catch(() => {})
      await c.update('posts', created?._id ?? MISSING_ID, { title: 'x' }, opts).catch(() => {})
      await c.remove('posts', created?._id ?? MISSING_ID, opts).catch(() => {})
      await c.list('nope', {}, opts).catch(() => {})
    }
    await c.authenticate('editor', 'editor-pass-123')
    await c.authenticate('editor', 'wrong-pass-456')
    await c.health()

    expect(emulator.requests.length).toBeGreaterThan(20)
    for (const request of emulator.requests) {
      const where = `${request.method} ${request.path}`
      const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? '')
      for (const secret of [keys.full, keys.read, keys.user, keys.wrong]) {
        expect(request.path, where).not.toContain(secret)
        expect(String(request.search ?? ''), where).not.toContain(secret)
        expect(body, where).not.toContain(secret)
        for (const [name, value] of headerValues(request.headers)) {
          if (name !== keys.header) expect(value, `${where} header ${name}`).not.toContain(secret)
        }
      }
      // never the other version's transport, nor a query/body token
      expect(String(request.search ?? ''), where).not.toMatch(/api_key|token=/i)
      const headerNames = headerValues(request.headers).map(([n]) => n)
      expect(headerNames, where).not.toContain('authorization')
      expect(headerNames, where).not.toContain(version === 2 ? 'cockpit-token' : 'api-key')
    }
    const content = emulator.requests.filter(r => /^\/api\/(content|collections)\/(items|item|get|entry|save|remove)\//.test(r.path))
    expect(content.length).toBeGreaterThan(0)
    for (const request of content) {
      expect(headerValues(request.headers).find(([n]) => n === keys.header)?.[1]).toMatch(/^(API-|USR-|account-)?[0-9a-f]+$/)
    }
    // health and the password check go without the per-call keys
    for (const request of emulator.requests.filter(r => /healthcheck|listCollections|^\/auth\//.test(r.path))) {
      for (const key of [keys.read, keys.user, keys.wrong]) expect(JSON.stringify(request)).not.toContain(key)
      if (version === 2) expect(JSON.stringify(request)).not.toContain(keys.full)
    }
    assertClean(logged.join('\n'))
  })

  it('no key, password or URL in any failure, its data or the console', async () => {
    const c = client()
    const texts: string[] = []
    texts.push(await failing(c.list('posts', {}, { key: keys.wrong })))
    texts.push(await failing(c.get('posts', MISSING_ID, { key: keys.wrong })))
    texts.push(await failing(c.create('posts', { title: 'x' }, { key: keys.read })))
    texts.push(await failing(c.update('posts', MISSING_ID, { title: 'x' }, { key: keys.read })))
    texts.push(await failing(c.remove('posts', MISSING_ID, { key: keys.read })))
    texts.push(await failing(c.update('posts', MISSING_ID, { title: 'x' }, { key: keys.full })))
    texts.push(await failing(c.remove('posts', MISSING_ID, { key: keys.full })))
    texts.push(await failing(c.list('nope', {}, { key: keys.full })))
    texts.push(await failing(c.list('posts', {}, { key: '' })))
    texts.push(await failing(c.list('posts', {}, { key: `${keys.full}\n` })))
    texts.push(await failing(c.get('../x', MISSING_ID, { key: keys.full })))
    texts.push(await failing(c.list('posts', { filter: { title: { $bogus: 1 } } }, { key: keys.full })).catch(() => ''))
    if (version === 1) {
      texts.push(await failing(createCockpitClient({ url: emulator.url, version: 1, authKey: keys.wrong }).authenticate('editor', 'editor-pass-123')))
      texts.push(await failing(createCockpitClient({ url: emulator.url, version: 1, authKey: '' }).authenticate('editor', 'editor-pass-123')))
    }

    emulator.setFault({ kind: 'status', status: 503 })
    texts.push(await failing(c.list('posts', {}, { key: keys.full })))
    texts.push(await failing(c.create('posts', { title: 'x' }, { key: keys.full })))
    texts.push(await failing(c.authenticate('editor', 'editor-pass-123')))
    emulator.setFault({ kind: 'status', status: 500 })
    texts.push(await failing(c.get('posts', MISSING_ID, { key: keys.full })))
    texts.push(await failing(c.authenticate('editor', 'editor-pass-123')))
    emulator.setFault({ kind: 'down' })
    texts.push(await failing(c.list('posts', {}, { key: keys.full })))
    texts.push(await failing(c.update('posts', MISSING_ID, { title: 'x' }, { key: keys.full })))
    texts.push(await failing(c.authenticate('editor', 'editor-pass-123')))
    expect(await c.health()).toBe(false)
    emulator.setFault({ kind: 'delay', ms: 500 })
    const slow = client(100)
    texts.push(await failing(slow.list('posts', {}, { key: keys.full })))
    texts.push(await failing(slow.create('posts', { title: 'x' }, { key: keys.full })))
    texts.push(await failing(slow.authenticate('editor', 'editor-pass-123')))

    expect(texts.filter(Boolean).length).toBeGreaterThan(20)
    for (const text of texts) assertClean(text)
    assertClean(logged.join('\n'))
  })

  it('wrong credentials resolve null without exposing them; the user result holds no key', async () => {
    const c = client()
    expect(await c.authenticate('editor', 'wrong-pass-456')).toBeNull()
    expect(await c.authenticate('nobody', 'editor-pass-123')).toBeNull()
    const user = await c.authenticate('editor', 'editor-pass-123')
    expect(user).not.toBeNull()
    const text = JSON.stringify(user)
    expect(text).not.toMatch(/api_?key|apiKey/i)
    for (const secret of SECRETS) expect(text).not.toContain(secret)
    assertClean(logged.join('\n'))
  })
})
