import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_V1, SEED_V2 } from '../../emulator/index'
import type { RecordedRequest } from '../../emulator/index'
import { emulatorRoleKeys } from '../../scripts/embedded-cockpit'
import { findLeaks, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// Singletons (`settings`) and images/assets through the built demo, against the emulator on v2 and v1.
const ENV = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '100000',
  NUXT_COCKPIT_TIMEOUT: '20000',
  NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET: 'e2e-content-webhook-secret-7d1e',
}
const SEED_SETTINGS = { siteTitle: 'Acceptance Site', tagline: 'Real Cockpit, seeded for acceptance tests' }

/** Width and height from a PNG's IHDR chunk (bytes 16..23), or null when the bytes are no PNG. */
function readPngSize(bytes: Uint8Array): { width: number, height: number } | null {
  const signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
  if (!signature.every((byte, i) => bytes[i] === byte)) return null
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { width: view.getUint32(16), height: view.getUint32(20) }
}

describe.each([2, 1] as const)('singletons and images against Cockpit v%i', (version) => {
  // A case for one version only is defined for that version alone (not skipped on the other).
  const onlyOn = (only: 1 | 2): typeof it => (only === version ? it : (() => {}) as unknown as typeof it)
  const exchanges: RecordedExchange[] = []
  let gateway: RunningGateway
  let anon: TestBrowser
  let guest: TestBrowser
  let admin: TestBrowser
  let pngId: string
  let textId: string

  const upstream = () => gateway.emulator.requests
  const isSingletonRead = (r: RecordedRequest) => version === 2 ? r.method === 'GET' && r.path === '/api/content/item/settings' : r.path === '/api/singletons/get/settings'
  const isImageCall = (r: RecordedRequest) => version === 2 ? r.path.startsWith('/api/assets/image/') : r.path === '/api/cockpit/image'

  /** The stored `settings` value, read around the gateway with an admin key. */
  async function storedSettings(): Promise<Record<string, unknown>> {
    const response = version === 2
      ? await fetch(`${gateway.emulator.url}/api/content/item/settings`, { headers: { 'api-key': SEED_V2.keys.full } })
      : await fetch(`${gateway.emulator.url}/api/singletons/get/settings`, { headers: { 'cockpit-token': SEED_V1.keys.master } })
    expect(response.status).toBe(200)
    return await response.json() as Record<string, unknown>
  }

  async function getImage(path: string, headers: Record<string, string> = {}) {
    const response = await fetch(`${gateway.url}${path}`, { headers })
    const bytes = new Uint8Array(await response.arrayBuffer())
    return { status: response.status, headers: response.headers, bytes }
  }

  beforeAll(async () => {
    gateway = await startGateway({ version, env: { ...ENV, ...emulatorRoleKeys(version) } })
    anon = new TestBrowser(gateway, exchanges)
    guest = new TestBrowser(gateway, exchanges)
    admin = new TestBrowser(gateway, exchanges)
    await Promise.all([guest.login('guest', 'guest-pass-123'), admin.login('admin', 'admin-pass-123')])
    const assets = await gateway.emulator.listAssets()
    pngId = String(assets.find(asset => asset.mime === 'image/png')!._id)
    textId = String(assets.find(asset => asset.mime === 'text/plain')!._id)
    gateway.emulator.clearRequests()
  })
  afterAll(async () => {
    await gateway?.stop()
  })

  describe('singletons', () => {
    it('reads only the declared fields, cached after the first read', async () => {
      const first = await anon.request('/api/cockpit/singletons/settings')
      expect(first.status).toBe(200)
      expect(first.headers.get('content-type')).toMatch(/^application\/json/)
      expect(first.json()).toEqual(SEED_SETTINGS)
      const second = await anon.request('/api/cockpit/singletons/settings')
      expect(second.json()).toEqual(SEED_SETTINGS)
      expect(second.headers.get('x-cockpit-gateway-cache')).toBe('hit')
      expect(upstream().filter(isSingletonRead)).toHaveLength(1)
    })

    it('answers 404 for an undeclared singleton and 405 for other methods, without calling Cockpit', async () => {
      gateway.emulator.clearRequests()
      const missing = await anon.request('/api/cockpit/singletons/nosuchsingleton')
      expect(missing.status).toBe(404)
      expect(missing.json().data.code).toBe('SINGLETON_NOT_FOUND')
      const bad = await anon.request('/api/cockpit/singletons/..%2Fitems')
      expect(bad.status).toBe(400)
      const remove = await admin.request('/api/cockpit/singletons/settings', { method: 'DELETE' })
      expect(remove.status).toBe(405)
      expect(remove.headers.get('allow')).toBe('GET, PATCH')
      expect(upstream()).toHaveLength(0)
    })

    it('refuses guests (403), visitors (401), unknown fields and empty updates (422), with no write upstream', async () => {
      gateway.emulator.clearRequests()
      const asGuest = await guest.request('/api/cockpit/singletons/settings', { method: 'PATCH', json: { tagline: 'guest' } })
      expect(asGuest.status).toBe(403)
      expect(asGuest.json().data.code).toBe('FORBIDDEN')
      const asVisitor = await anon.request('/api/cockpit/singletons/settings', { method: 'PATCH', json: { tagline: 'anon' } })
      expect(asVisitor.status).toBe(401)
      const crossSite = await admin.request('/api/cockpit/singletons/settings', { method: 'PATCH', json: { tagline: 'x' }, origin: 'https://evil.example' })
      expect(crossSite.status).toBe(403)
      if (version === 2) {
        for (const body of [{ notAField: 1 }, { tagline: 'ok', _id: 'x' }, { tagline: 'ok', _state: 0 }, {}, { siteTitle: '' }]) {
          const response = await admin.request('/api/cockpit/singletons/settings', { method: 'PATCH', json: body })
          expect(response.status, JSON.stringify(body)).toBe(422)
          expect(response.json().data.code).toBe('VALIDATION_FAILED')
        }
      }
      expect(upstream().filter(r => r.method === 'POST')).toHaveLength(0)
      expect(await storedSettings()).toMatchObject(SEED_SETTINGS)
    })

    onlyOn(1)('answers 501 NOT_SUPPORTED to an admin\'s PATCH on v1, before any upstream call', async () => {
      gateway.emulator.clearRequests()
      const response = await admin.request('/api/cockpit/singletons/settings', { method: 'PATCH', json: { tagline: 'New tagline' } })
      expect(response.status).toBe(501)
      expect(response.json().data.code).toBe('NOT_SUPPORTED')
      expect(upstream()).toHaveLength(0)
      expect(await storedSettings()).toMatchObject(SEED_SETTINGS)
    })

    onlyOn(2)('updates a field by _id, keeps the unsent ones in Cockpit, and invalidates the cached read', async () => {
      await anon.request('/api/cockpit/singletons/settings')
      gateway.emulator.clearRequests()
      const response = await admin.request('/api/cockpit/singletons/settings', { method: 'PATCH', json: { tagline: 'A new tagline' } })
      expect(response.status).toBe(200)
      expect(response.json()).toEqual({ siteTitle: 'Acceptance Site', tagline: 'A new tagline' })
      const stored = await storedSettings()
      expect(stored).toMatchObject({ siteTitle: 'Acceptance Site', tagline: 'A new tagline', _state: 1 })
      // The write carried the stored document's `_id` (a merge), never a bare `{data}` (which nulls unsent fields).
      const writes = upstream().filter(r => r.method === 'POST' && r.path === '/api/content/item/settings')
      expect(writes).toHaveLength(1)
      expect(JSON.parse(writes[0]!.body!)).toEqual({ data: { tagline: 'A new tagline', _id: stored._id } })
      const read = await anon.request('/api/cockpit/singletons/settings')
      expect(read.json()).toEqual({ siteTitle: 'Acceptance Site', tagline: 'A new tagline' })
      expect(read.headers.get('x-cockpit-gateway-cache')).toBe('miss')
    })

    it('drops the cached value when the webhook names the singleton', async () => {
      await anon.request('/api/cockpit/singletons/settings')
      const before = (await anon.request('/api/cockpit/singletons/settings')).json()
      // Changed in Cockpit itself (v2 with the full key; v1 has no REST write: there only the miss is checked).
      if (version === 2) {
        const { _id } = await storedSettings()
        const write = await fetch(`${gateway.emulator.url}/api/content/item/settings`, { method: 'POST', headers: { 'api-key': SEED_V2.keys.full, 'content-type': 'application/json' }, body: JSON.stringify({ data: { _id, siteTitle: 'Edited in Cockpit' } }) })
        expect(write.status).toBe(200)
      }
      expect((await anon.request('/api/cockpit/singletons/settings')).json()).toEqual(before)
      const hook = await anon.request('/api/cockpit/webhook', { json: { model: 'settings' }, headers: { 'x-cockpit-gateway-secret': ENV.NUXT_COCKPIT_GATEWAY_WEBHOOK_SECRET }, origin: null })
      expect(hook.status).toBe(200)
      expect(hook.json()).toEqual({ invalidated: ['settings'] })
      const after = await anon.request('/api/cockpit/singletons/settings')
      expect(after.headers.get('x-cockpit-gateway-cache')).toBe('miss')
      if (version === 2) expect(after.json().siteTitle).toBe('Edited in Cockpit')
    })
    it('takes the settings form without JavaScript: the session\'s form token, then 303 (v1: back with NOT_SUPPORTED)', async () => {
      const { formToken } = (await admin.request('/api/_auth/session')).json()
      const fields = { siteTitle: 'Form title', tagline: 'Form tagline', _success: '/settings?saved=1', _back: '/settings' }
      gateway.emulator.clearRequests()
      const noToken = await admin.request('/api/cockpit/form-posts/singletons/settings/update', { form: fields })
      expect(noToken.status).toBe(303)
      expect(noToken.headers.get('location')).toBe('/settings?error=CSRF_TOKEN_INVALID&siteTitle=Form+title&tagline=Form+tagline')
      const asGuest = await guest.request('/api/cockpit/form-posts/singletons/settings/update', { form: { ...fields, _csrf: (await guest.request('/api/_auth/session')).json().formToken } })
      expect(asGuest.headers.get('location')).toMatch(/^\/settings\?error=FORBIDDEN&/)
      expect(upstream()).toHaveLength(0)
      const posted = await admin.request('/api/cockpit/form-posts/singletons/settings/update', { form: { ...fields, _csrf: formToken } })
      expect(posted.status).toBe(303)
      if (version === 2) {
        expect(posted.headers.get('location')).toBe('/settings?saved=1')
        expect(await storedSettings()).toMatchObject({ siteTitle: 'Form title', tagline: 'Form tagline' })
        expect((await anon.request('/api/cockpit/singletons/settings')).json()).toEqual({ siteTitle: 'Form title', tagline: 'Form tagline' })
      }
      else {
        expect(posted.headers.get('location')).toMatch(/^\/settings\?error=NOT_SUPPORTED&/)
        expect(upstream()).toHaveLength(0)
      }
    })
  })

  describe('images and assets', () => {
    it('serves an allowed size as real PNG bytes of that size, cacheable, with an ETag and 304', async () => {
      gateway.emulator.clearRequests()
      const image = await getImage(`/api/cockpit/images/${pngId}?w=32`)
      expect(image.status).toBe(200)
      expect(image.headers.get('content-type')).toBe('image/png')
      expect(readPngSize(image.bytes)).toEqual({ width: 32, height: 16 })
      expect(image.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      const etag = image.headers.get('etag')
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
      const sized = await getImage(`/api/cockpit/images/${pngId}?h=32&fit=fitToHeight`)
      expect(sized.status).toBe(200)
      expect(readPngSize(sized.bytes)).toEqual({ width: 64, height: 32 })
      const calls = upstream().filter(isImageCall)
      expect(calls).toHaveLength(2)

      gateway.emulator.clearRequests()
      const again = await getImage(`/api/cockpit/images/${pngId}?w=32`)
      expect(again.status).toBe(200)
      expect(again.bytes).toEqual(image.bytes)
      const revalidated = await getImage(`/api/cockpit/images/${pngId}?w=32`, { 'if-none-match': etag! })
      expect(revalidated.status).toBe(304)
      expect(revalidated.bytes.byteLength).toBe(0)
      expect(upstream()).toHaveLength(0)
    })

    it('refuses sizes and options outside the allow-list, bad ids and a client src, before any upstream call', async () => {
      gateway.emulator.clearRequests()
      for (const query of ['w=33', 'w=99999', 'h=5000', 'w=32&q=500', 'w=32&format=svg', 'w=32&fit=crop', '']) {
        const response = await anon.request(`/api/cockpit/images/${pngId}${query ? `?${query}` : ''}`)
        expect(response.status, query).toBe(400)
        expect(response.json().data.code, query).toBe('IMAGE_OPTIONS_NOT_ALLOWED')
      }
      for (const query of ['w=-1', 'w=abc', 'w=32&w=64', 'w=32&src=/etc/hostname', 'w=32&o=1']) {
        const response = await anon.request(`/api/cockpit/images/${pngId}?${query}`)
        expect(response.status, query).toBe(400)
        expect(response.json().data.code, query).toBe('INVALID_QUERY')
      }
      for (const id of ['..%2F..%2Fetc%2Fhostname', '%2Fetc%2Fhostname', 'ABCDEF0123456789abcdef01', 'nosuchasset', `${pngId}0`]) {
        const response = await anon.request(`/api/cockpit/images/${id}?w=32`)
        expect(response.status, id).toBe(400)
        expect(response.json().data.code, id).toBe('INVALID_PARAMS')
      }
      expect(upstream()).toHaveLength(0)
    })

    it('refuses assets that are not raster images without asking for a transform', async () => {
      gateway.emulator.clearRequests()
      const text = await anon.request(`/api/cockpit/images/${textId}?w=32`)
      expect(text.status).toBe(404)
      expect(text.json().data.code).toBe('NOT_AN_IMAGE')
      expect(text.headers.get('content-type')).toMatch(/^application\/json/)
      const unknown = await anon.request('/api/cockpit/images/0123456789abcdef01234567?w=32')
      expect(unknown.status).toBe(404)
      expect(unknown.json().data.code).toBe('NOT_FOUND')
      if (version === 1) {
        // v1 accepts any file as an asset: an SVG (which can carry script) must never come back as an image.
        const form = new FormData()
        form.append('files[]', new Blob(['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'], { type: 'image/svg+xml' }), 'probe.svg')
        const upload = await fetch(`${gateway.emulator.url}/api/cockpit/addAssets`, { method: 'POST', headers: { 'cockpit-token': SEED_V1.keys.master }, body: form })
        const svgId = String((await upload.json() as { assets: { _id: string }[] }).assets[0]!._id)
        const svg = await anon.request(`/api/cockpit/images/${svgId}?w=32`)
        expect(svg.status).toBe(404)
        expect(svg.json().data.code).toBe('NOT_AN_IMAGE')
      }
      expect(upstream().filter(isImageCall)).toHaveLength(0)
    })

    onlyOn(1)('sends v1 only the checked asset id as src, never anything from the client', async () => {
      gateway.emulator.clearRequests()
      expect((await getImage(`/api/cockpit/images/${pngId}?w=160&format=png`)).status).toBe(200)
      const calls = upstream().filter(isImageCall)
      expect(calls).toHaveLength(1)
      const sent = new URLSearchParams(calls[0]!.search)
      expect(sent.get('src')).toBe(pngId)
      expect(Object.fromEntries(sent)).toEqual({ src: pngId, w: '160', mime: 'image/png', o: '1' })
    })

    it('gives allow-listed asset metadata with the gateway URL of its image', async () => {
      const png = await anon.request(`/api/cockpit/assets/${pngId}`)
      expect(png.status).toBe(200)
      expect(png.json()).toEqual({ id: pngId, title: version === 2 ? 'Acceptance image' : 'acceptance-image.png', mime: 'image/png', size: 174, width: 64, height: 32, image: `/api/cockpit/images/${pngId}?w=64` })
      const viaUrl = await getImage(png.json().image)
      expect(viaUrl.status).toBe(200)
      expect(readPngSize(viaUrl.bytes)).toEqual({ width: 64, height: 32 })
      const text = await anon.request(`/api/cockpit/assets/${textId}`)
      expect(text.json()).toMatchObject({ mime: 'text/plain', size: 48, width: null, height: null, image: null })
      const missing = await anon.request('/api/cockpit/assets/0123456789abcdef01234567')
      expect(missing.status).toBe(404)
    })

    it('refuses uploads clearly', async () => {
      gateway.emulator.clearRequests()
      const upload = await admin.request('/api/cockpit/assets', { json: { name: 'x.php' } })
      expect(upload.status).toBe(501)
      expect(upload.json().data.code).toBe('NOT_SUPPORTED')
      const onAsset = await admin.request(`/api/cockpit/assets/${pngId}`, { json: {} })
      expect(onAsset.status).toBe(405)
      expect(upstream()).toHaveLength(0)
    })
  })

  it('never shows a key or the session password in any answer or log line', () => {
    expect(findLeaks(gateway.secrets, exchanges, gateway.logs)).toEqual([])
  })
})
