import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../../emulator/index'
import { SEED_FILES, SEED_V1, SEED_V2, startEmulator } from '../../emulator/index'
import { decodePng, getPixelHex } from '../../emulator/png'
import type { Answer, CallOptions } from './http-client'
import { OBJECT_ID, call, qs } from './http-client'

const LIME_HTML = 'text/html;charset=UTF-8'
const PHP_HTML = 'text/html; charset=UTF-8'
const SYSTEM_ERROR = '{"error": "500", "message": "system error"}'
const UPLOAD_PATH = (name: string, extension: string) => new RegExp(`^/\\d{4}/\\d{2}/\\d{2}/${name}_uid_[0-9a-f]{13}\\.${extension}$`)
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex')

/** Fetches a URL and keeps the body as bytes (images). */
async function fetchBytes(url: string, init: RequestInit = {}) {
  const response = await fetch(url, { redirect: 'manual', ...init })
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) }
}

function expectJson(answer: Answer, status: number, body: string) {
  expect(answer.status).toBe(status)
  expect(answer.text).toBe(body)
  expect(answer.contentType).toBe('application/json')
}

function expectEmpty(answer: Answer, status: number, contentType: string) {
  expect(answer.status).toBe(status)
  expect(answer.text).toBe('')
  expect(answer.contentType).toBe(contentType)
}

describe('6. assets [v2]', () => {
  const FULL = { 'api-key': SEED_V2.keys.full }
  const SUBMIT = { 'api-key': SEED_V2.keys.submit }
  let emulator: RunningEmulator
  let image: Record<string, any>
  let notes: Record<string, any>
  const api = (path: string, options?: CallOptions) => call(emulator.url, path, options)
  const thumbnailUrl = async (params: Record<string, string | number>, headers: Record<string, string> = FULL) => {
    const answer = await api(`/api/assets/image/${String(image._id)}${qs(params)}`, { headers })
    expect(answer.status).toBe(200)
    expect(answer.contentType).toBe(LIME_HTML)
    return answer.text
  }
  const sizeAt = async (url: string) => {
    const file = await fetchBytes(url)
    expect(file.status).toBe(200)
    return decodePng(file.bytes)
  }

  beforeAll(async () => {
    emulator = await startEmulator({ version: 2, port: 0 })
    const assets = await emulator.listAssets()
    image = assets.find(asset => asset.title === 'Acceptance image')!
    notes = assets.find(asset => asset.title === 'Acceptance notes')!
  })

  afterAll(async () => {
    await emulator.close()
  })

  beforeEach(async () => {
    await emulator.reset()
  })

  it('6.1 the seed files have generated 24-hex ids and /YYYY/MM/DD/<name>_uid_<13 hex>.<ext> paths, kept by reset()', async () => {
    expect(image._id).toMatch(OBJECT_ID)
    expect(notes._id).toMatch(OBJECT_ID)
    expect(image.path).toMatch(UPLOAD_PATH('acceptance-image', 'png'))
    expect(notes.path).toMatch(UPLOAD_PATH('acceptance-notes', 'txt'))
    await emulator.reset()
    expect((await emulator.listAssets()).map(asset => asset._id)).toEqual([image._id, notes._id])
  })

  it('GET /api/assets/{id} → 200 the documents of 6.2, slashes escaped as \\/', async () => {
    const answer = await api(`/api/assets/${String(image._id)}`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.text).toContain(`"path":"${String(image.path).replace(/\//g, '\\/')}"`)
    const doc = answer.json<Record<string, unknown>>()
    expect(Object.keys(doc)).toEqual(['path', 'title', 'mime', 'type', 'description', 'tags', 'size', 'colors', 'width', 'height', '_hash', '_created', '_modified', '_cby', 'altText', 'thumbhash', '_id'])
    expect(doc).toMatchObject({ title: 'Acceptance image', mime: 'image/png', type: 'image', description: '', tags: [], size: 174, width: 64, height: 32, _hash: SEED_FILES.image.md5, _cby: SEED_V2.users.admin.id, altText: 'acceptance-image.png', colors: [...SEED_FILES.image.colors], thumbhash: SEED_FILES.image.thumbhash })
    const text = (await api(`/api/assets/${String(notes._id)}`, { headers: FULL })).json<Record<string, unknown>>()
    expect(Object.keys(text)).toEqual(['path', 'title', 'mime', 'type', 'description', 'tags', 'size', 'colors', 'width', 'height', '_hash', '_created', '_modified', '_cby', '_id'])
    expect(text).toMatchObject({ title: 'Acceptance notes', mime: 'text/plain', type: 'document', size: 48, colors: null, width: null, height: null, _hash: SEED_FILES.notes.md5 })
  })

  it('unknown id → 404 empty; /api/assets (list), /api/assets/presets, uploads → 404 empty', async () => {
    expectEmpty(await api('/api/assets/0123456789abcdef01234567', { headers: FULL }), 404, LIME_HTML)
    expectEmpty(await api('/api/assets', { headers: FULL }), 404, LIME_HTML)
    expectEmpty(await api('/api/assets/presets', { headers: FULL }), 404, LIME_HTML)
    expectEmpty(await api('/api/assets/upload', { headers: FULL, method: 'POST', body: 'x' }), 404, LIME_HTML)
    expectEmpty(await api('/api/assets', { headers: FULL, method: 'POST', body: 'x' }), 404, LIME_HTML)
    expect(await emulator.listAssets()).toHaveLength(2)
  })

  it('any valid key, even the create-only submit key, reads metadata and transforms; no key → 412', async () => {
    expect((await api(`/api/assets/${String(image._id)}`, { headers: SUBMIT })).status).toBe(200)
    expect(await thumbnailUrl({ w: 32 }, SUBMIT)).toContain('/storage/tmp/thumbs/')
    expectJson(await api(`/api/assets/${String(image._id)}`), 412, '{"error":"Authentication failed"}')
    expectJson(await api(`/api/assets/image/${String(image._id)}?w=32`), 412, '{"error":"Authentication failed"}')
  })

  it('public files /storage/uploads{path}: no key, exact bytes, Content-Type and Content-Length, no caching headers; missing → HTML 404', async () => {
    const png = await fetchBytes(`${emulator.url}/storage/uploads${String(image.path)}`)
    expect(png.status).toBe(200)
    expect(png.headers.get('content-type')).toBe('image/png')
    expect(png.headers.get('content-length')).toBe('174')
    expect(md5(png.bytes)).toBe(SEED_FILES.image.md5)
    for (const header of ['cache-control', 'etag', 'last-modified']) expect(png.headers.get(header)).toBeNull()
    const text = await fetchBytes(`${emulator.url}/storage/uploads${String(notes.path)}`)
    expect(text.headers.get('content-type')).toBe('text/plain; charset=UTF-8')
    expect(md5(text.bytes)).toBe(SEED_FILES.notes.md5)
    const missing = await api('/storage/uploads/2026/01/01/nope_uid_0000000000000.png')
    expect(missing.status).toBe(404)
    expect(missing.text).toContain('<html')
    expect((await api('/storage/data/system.sqlite')).status).toBe(404)
  })

  it('w=32 → 200 text/html, the absolute URL of a public 32×16 PNG that really is the image scaled down', async () => {
    const url = await thumbnailUrl({ w: 32 })
    expect(url).toMatch(new RegExp(`^${emulator.url}/storage/tmp/thumbs/[0-9a-f]{32}_80_thumbnail\\.png$`))
    const file = await fetchBytes(url)
    expect(file.headers.get('content-type')).toBe('image/png')
    const thumb = decodePng(file.bytes)
    expect([thumb.width, thumb.height]).toEqual([32, 16])
    expect([getPixelHex(thumb, 0, 0), getPixelHex(thumb, 6, 6), getPixelHex(thumb, 22, 6)]).toEqual(['#1d4ed8', '#ffffff', '#d62828'])
  })

  it('the host in the URL is the server\'s, not a forged Host header', async () => {
    expect(await thumbnailUrl({ w: 32 }, { ...FULL, host: 'evil.example' })).toMatch(new RegExp(`^${emulator.url}/`))
  })

  it('w, h: one is enough; original = source size; w=abc and w=0 count as missing', async () => {
    expect(await sizeAt(await thumbnailUrl({ h: 8 }))).toMatchObject({ width: 16, height: 8 })
    expect(await sizeAt(await thumbnailUrl({ w: 'original' }))).toMatchObject({ width: 64, height: 32 })
    expect(await sizeAt(await thumbnailUrl({ w: 128, h: 16, m: 'resize' }))).toMatchObject({ width: 128, height: 16 })
    const missing = '{"error":"Target width or height parameter is missing"}'
    expectJson(await api(`/api/assets/image/${String(image._id)}?w=abc`, { headers: FULL }), 400, missing)
    expectJson(await api(`/api/assets/image/${String(image._id)}?w=0`, { headers: FULL }), 400, missing)
    expectJson(await api(`/api/assets/image/${String(image._id)}`, { headers: FULL }), 400, missing)
  })

  it('m: thumbnail (default) crops to the box, bestFit fits inside it, an unknown mode is thumbnail', async () => {
    const thumbnail = await thumbnailUrl({ w: 16, h: 16 })
    expect(await sizeAt(thumbnail)).toMatchObject({ width: 16, height: 16 })
    expect(await sizeAt(await thumbnailUrl({ w: 16, h: 16, m: 'bestFit' }))).toMatchObject({ width: 16, height: 8 })
    expect(await thumbnailUrl({ w: 16, h: 16, m: 'bogus' })).toBe(thumbnail)
    expect(await thumbnailUrl({ w: 16, m: 'fitToWidth' })).toMatch(/_80_fitToWidth\.png$/)
  })

  it('q: default 80, not range-checked (q=500, q=-5 → 200)', async () => {
    expect(await thumbnailUrl({ w: 32, q: 500 })).toMatch(/_500_thumbnail\.png$/)
    expect(await thumbnailUrl({ w: 32, q: -5 })).toMatch(/_-5_thumbnail\.png$/)
  })

  it('mime=auto → WebP only when Accept has image/webp; jpeg honoured; an unknown value keeps the source format but ends in .bogus', async () => {
    expect(await thumbnailUrl({ w: 32 }, { ...FULL, accept: 'image/avif,image/webp,*/*' })).toMatch(/\.webp$/)
    expect(await thumbnailUrl({ w: 32 }, { ...FULL, accept: 'image/png,*/*' })).toMatch(/\.png$/)
    expect(await thumbnailUrl({ w: 32, mime: 'jpeg' })).toMatch(/\.jpeg$/)
    const bogus = await thumbnailUrl({ w: 32, mime: 'bogus' })
    expect(bogus).toMatch(/\.bogus$/)
    expect(await sizeAt(bogus)).toMatchObject({ width: 32, height: 16 })
  })

  it('o=1 → the bytes with Content-Type, Content-Length, immutable 30-day caching, ETag, Expires, Last-Modified; If-None-Match → 304', async () => {
    const path = `/api/assets/image/${String(image._id)}?w=32&o=1`
    const answer = await fetchBytes(emulator.url + path, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('image/png')
    expect(answer.headers.get('content-length')).toBe(String(answer.bytes.length))
    expect(answer.headers.get('cache-control')).toBe('public, max-age=2592000, immutable')
    const etag = answer.headers.get('etag')!
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/)
    expect(Date.parse(answer.headers.get('expires')!)).toBeGreaterThan(Date.now() + 29 * 86_400_000)
    expect(answer.headers.get('last-modified')).not.toBeNull()
    expect(decodePng(answer.bytes)).toMatchObject({ width: 32, height: 16 })
    const again = await fetchBytes(emulator.url + path, { headers: { ...FULL, 'if-none-match': etag } })
    expect(again.status).toBe(304)
    expect(again.bytes.length).toBe(0)
    const webp = await fetchBytes(emulator.url + path, { headers: { ...FULL, accept: 'image/webp' } })
    expect(webp.headers.get('content-type')).toBe('image/webp')
    expect(webp.headers.get('etag')).not.toBe(etag)
  })

  it('b64=1 → a data URL (text/html); re=1 → 302 to the thumbnail URL', async () => {
    const b64 = await api(`/api/assets/image/${String(image._id)}?w=32&b64=1`, { headers: FULL })
    expect(b64.contentType).toBe(LIME_HTML)
    expect(b64.text).toMatch(/^data:image\/png;base64,/)
    expect(decodePng(Buffer.from(b64.text.split(',')[1]!, 'base64'))).toMatchObject({ width: 32, height: 16 })
    const redirect = await api(`/api/assets/image/${String(image._id)}?w=32&re=1`, { headers: FULL })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe(await thumbnailUrl({ w: 32 }))
  })

  it('presets: /{id}/thumbnail → the URL of a .webp file (150×150); an unknown preset → 404 {"error":"Preset not found"}', async () => {
    const answer = await api(`/api/assets/image/${String(image._id)}/thumbnail`, { headers: FULL })
    expect(answer.status).toBe(200)
    expect(answer.text).toMatch(/\/storage\/tmp\/thumbs\/[0-9a-f]{32}_80_thumbnail\.webp$/)
    expect(await sizeAt(answer.text)).toMatchObject({ width: 150, height: 150 })
    expect((await api(`/api/assets/image/${String(image._id)}/small`, { headers: FULL })).text).toMatch(/\.webp$/)
    expectJson(await api(`/api/assets/image/${String(image._id)}/nosuchpreset`, { headers: FULL }), 404, '{"error":"Preset not found"}')
  })

  it('unknown id → 400 {"error":"Asset not found"}; the text file → 404 empty', async () => {
    expectJson(await api('/api/assets/image/0123456789abcdef01234567?w=32', { headers: FULL }), 400, '{"error":"Asset not found"}')
    expectEmpty(await api(`/api/assets/image/${String(notes._id)}?w=32`, { headers: FULL }), 404, LIME_HTML)
  })

  it.each(['-1', '99999'])('w=%s → 500 {"error": "500", "message": "system error"} as text/html; charset=UTF-8', async (w) => {
    const answer = await api(`/api/assets/image/${String(image._id)}?w=${w}`, { headers: FULL })
    expect([answer.status, answer.text, answer.contentType]).toEqual([500, SYSTEM_ERROR, PHP_HTML])
  })

  it('thumbnails are files under storage/tmp/thumbs until reset()', async () => {
    const url = await thumbnailUrl({ w: 20 })
    expect((await fetchBytes(url)).status).toBe(200)
    await emulator.reset()
    expect((await fetchBytes(url)).status).toBe(404)
  })
})

describe('6. assets [v1]', () => {
  const { keys } = SEED_V1
  const MASTER = { 'Cockpit-Token': keys.master }
  const SPECIAL = { 'Cockpit-Token': keys.special }
  const EDITOR = { 'Cockpit-Token': keys.editorAccount }
  const GUEST = { 'Cockpit-Token': keys.guestAccount }
  const UNAUTHORIZED = '{"error":"Unauthorized"}'
  let emulator: RunningEmulator
  let image: Record<string, any>
  let notes: Record<string, any>
  const api = (path: string, options?: CallOptions) => call(emulator.url, path, options)
  const imageRoute = (params: Record<string, string | number>, headers: Record<string, string> = MASTER) => api(`/api/cockpit/image${qs(params)}`, { headers })
  const upload = (files: Array<[string, string | Uint8Array]>, headers: Record<string, string>) => {
    const form = new FormData()
    for (const [name, content] of files) form.append('files[]', new Blob([typeof content === 'string' ? content : new Uint8Array(content)]), name)
    return fetch(`${emulator.url}/api/cockpit/addAssets`, { method: 'POST', headers, body: form })
  }

  beforeAll(async () => {
    emulator = await startEmulator({ version: 1, port: 0 })
    const assets = await emulator.listAssets()
    image = assets.find(asset => asset.title === 'acceptance-image.png')!
    notes = assets.find(asset => asset.title === 'acceptance-notes.txt')!
  })

  afterAll(async () => {
    await emulator.close()
  })

  beforeEach(async () => {
    await emulator.reset()
  })

  it('GET /api/cockpit/assets (master) → {"assets":[…],"total":2} with the documents of 6.3', async () => {
    const answer = await api('/api/cockpit/assets', { headers: MASTER })
    expect(answer.status).toBe(200)
    const body = answer.json<{ assets: Array<Record<string, unknown>>, total: number }>()
    expect(body.total).toBe(2)
    const doc = body.assets.find(asset => asset._id === image._id)!
    expect(Object.keys(doc)).toEqual(['path', 'title', 'mime', 'description', 'tags', 'size', 'image', 'video', 'audio', 'archive', 'document', 'code', 'colors', 'width', 'height', 'created', 'modified', '_by', '_id'])
    expect(doc).toMatchObject({ title: 'acceptance-image.png', mime: 'image/png', size: 174, image: true, document: false, width: 64, height: 32, _by: SEED_V1.users.admin.id })
    expect(doc.path).toMatch(UPLOAD_PATH('acceptance-image', 'png'))
    expect(body.assets.find(asset => asset._id === notes._id)).toMatchObject({ title: 'acceptance-notes.txt', mime: 'text/plain', size: 48, image: false, document: true, colors: null })
  })

  it('filter and fields, in a JSON body or the query\'s bracket syntax → {"assets":[{path,mime,_id}],"total":1}', async () => {
    const expected = `{"assets":[{"path":"${String(image.path).replace(/\//g, '\\/')}","mime":"image\\/png","_id":"${String(image._id)}"}],"total":1}`
    expectJson(await api('/api/cockpit/assets', { headers: MASTER, json: { filter: { title: 'acceptance-image.png' }, fields: { path: 1, mime: 1 } } }), 200, expected)
    expectJson(await api(`/api/cockpit/assets${qs({ 'filter[title]': 'acceptance-image.png', 'fields[path]': 1, 'fields[mime]': 1 })}`, { headers: MASTER }), 200, expected)
    expect((await api('/api/cockpit/assets', { headers: MASTER, json: { filter: { _id: notes._id } } })).json()).toMatchObject({ total: 1, assets: [{ title: 'acceptance-notes.txt' }] })
  })

  it('any account key lists assets (no asset ACL); the read key and no token → 401', async () => {
    expect((await api('/api/cockpit/assets', { headers: GUEST })).json()).toMatchObject({ total: 2 })
    expectJson(await api('/api/cockpit/assets', { headers: SPECIAL }), 401, UNAUTHORIZED)
    expectJson(await api('/api/cockpit/assets'), 401, UNAUTHORIZED)
  })

  it('/api/cockpit/asset/{id} → 404 empty even for an existing id; without an id → 412 {"error": "Missing id parameter"}', async () => {
    expectEmpty(await api(`/api/cockpit/asset/${String(image._id)}`, { headers: MASTER }), 404, 'application/json')
    expectJson(await api('/api/cockpit/asset', { headers: MASTER }), 412, '{"error": "Missing id parameter"}')
  })

  it('public /storage/uploads{path}: no token, exact bytes, no caching headers; a missing file → 302 to /auth/login?to=…', async () => {
    const png = await fetchBytes(`${emulator.url}/storage/uploads${String(image.path)}`)
    expect([png.status, png.headers.get('content-type'), png.headers.get('content-length')]).toEqual([200, 'image/png', '174'])
    expect(md5(png.bytes)).toBe(SEED_FILES.image.md5)
    expect(png.headers.get('cache-control')).toBeNull()
    const missing = await fetchBytes(`${emulator.url}/storage/uploads/2026/01/01/nope.png`)
    expect(missing.status).toBe(302)
    expect(missing.headers.get('location')).toMatch(/^\/auth\/login\?to=/)
  })

  it('image?src=<_id>&w=32 → 200 application/json whose body is a bare URL (not JSON) of a public 32×16 thumbnail', async () => {
    const answer = await imageRoute({ src: image._id, w: 32 })
    expect(answer.status).toBe(200)
    expect(answer.contentType).toBe('application/json')
    expect(answer.text).toMatch(new RegExp(`^${emulator.url}/storage/thumbs/[0-9a-f]{32}_32x16_100_\\d+_thumbnail_[0-9a-f]{32}\\.png$`))
    expect(() => answer.json()).toThrow()
    const thumb = await fetchBytes(answer.text)
    expect(thumb.headers.get('content-type')).toBe('image/png')
    const pixels = decodePng(thumb.bytes)
    expect([pixels.width, pixels.height, getPixelHex(pixels, 6, 6), getPixelHex(pixels, 22, 6)]).toEqual([32, 16, '#ffffff', '#d62828'])
  })

  it('src as a storage path or an uploads URL; m=bogus → thumbnail; q default 100; honoured and ignored mime values', async () => {
    expect((await imageRoute({ src: `storage/uploads${String(image.path)}`, w: 16 })).text).toMatch(/_16x8_100_\d+_thumbnail_/)
    expect((await imageRoute({ src: `${emulator.url}/storage/uploads${String(image.path)}`, w: 16, q: 50 })).text).toMatch(/_16x8_50_/)
    expect((await imageRoute({ src: image._id, w: 16, m: 'bogus' })).text).toMatch(/_thumbnail_[0-9a-f]{32}\.png$/)
    expect((await imageRoute({ src: image._id, w: 16, mime: 'image/webp' })).text).toMatch(/\.webp$/)
    expect((await imageRoute({ src: image._id, w: 16, mime: 'image/tiff' })).text).toMatch(/\.png$/)
  })

  it('o=1 → the bytes as image/png with Content-Length and no caching headers; b64=1 → data URL; re=1 → 302', async () => {
    const bytes = await fetchBytes(`${emulator.url}/api/cockpit/image${qs({ src: image._id, w: 32, o: 1 })}`, { headers: MASTER })
    expect([bytes.status, bytes.headers.get('content-type'), bytes.headers.get('content-length')]).toEqual([200, 'image/png', String(bytes.bytes.length)])
    expect(bytes.headers.get('cache-control')).toBeNull()
    expect(bytes.headers.get('etag')).toBeNull()
    expect(decodePng(bytes.bytes)).toMatchObject({ width: 32, height: 16 })
    expect((await imageRoute({ src: image._id, w: 32, b64: 1 })).text).toMatch(/^data:image\/png;base64,iVBOR/)
    const redirect = await imageRoute({ src: image._id, w: 32, re: 1 })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe((await imageRoute({ src: image._id, w: 32 })).text)
  })

  it('no w/h → 200 {"error":"Target width or height parameter is missing"}; no src → 200 {"error":"Missing src parameter"}', async () => {
    expectJson(await imageRoute({ src: image._id }), 200, '{"error":"Target width or height parameter is missing"}')
    expectJson(await imageRoute({ w: 32 }), 200, '{"error":"Missing src parameter"}')
  })

  it('unknown id → 404 empty (application/json); the text asset → 200 the bare URL of the file itself', async () => {
    expectEmpty(await imageRoute({ src: '0123456789abcdef01234567', w: 32 }), 404, 'application/json')
    const text = await imageRoute({ src: notes._id, w: 32 })
    expect([text.status, text.text]).toEqual([200, `${emulator.url}/storage/uploads${String(notes.path)}`])
  })

  it.each(['-1', '99999'])('w=%s → 500 system error', async (w) => {
    const answer = await imageRoute({ src: image._id, w })
    expect([answer.status, answer.text]).toEqual([500, SYSTEM_ERROR])
  })

  it('no token and the read key → 401', async () => {
    expectJson(await api(`/api/cockpit/image${qs({ src: image._id, w: 32 })}`), 401, UNAUTHORIZED)
    expectJson(await imageRoute({ src: image._id, w: 32 }, SPECIAL), 401, UNAUTHORIZED)
  })

  it('src=/etc/hostname (editor\'s key) → 200 the bare URL, /etc/no-such-file-here → 404: a file-existence oracle (fake file list)', async () => {
    expect((await imageRoute({ src: '/etc/hostname', w: 32 }, EDITOR)).text).toBe(`${emulator.url}/etc/hostname`)
    expectEmpty(await imageRoute({ src: '/etc/no-such-file-here', w: 32 }, EDITOR), 404, 'application/json')
    const outside = await imageRoute({ src: '/usr/share/gitweb/static/git-logo.png', w: 32 }, EDITOR)
    expect(outside.text).toMatch(/\/storage\/thumbs\/[0-9a-f]{32}_32x16_/)
    expect((await fetchBytes(outside.text)).status).toBe(200)
  })

  it('addAssets (multipart files[]) with master or any account key: no type filter; uploaded files are public', async () => {
    const byMaster = await upload([['probe-upload.txt', 'probe text\n']], MASTER)
    expect(byMaster.status).toBe(200)
    const master = await byMaster.json() as { uploaded: string[], failed: string[], assets: Array<Record<string, any>> }
    expect(master.uploaded).toEqual(['probe-upload.txt'])
    expect(master.failed).toEqual([])
    expect(master.assets[0]).toMatchObject({ title: 'probe-upload.txt', mime: 'text/plain', size: 11, _by: null })
    expect(master.assets[0]!.path).toMatch(UPLOAD_PATH('probe-upload', 'txt'))
    const byEditor = await (await upload([['probe-upload.php', '<?php echo "php-executed-" . (40 + 2);'], ['pixel.png', Buffer.from(SEED_FILES.image.base64, 'base64')]], EDITOR)).json() as { assets: Array<Record<string, any>> }
    expect(byEditor.assets.map(asset => asset._by)).toEqual([SEED_V1.users.editor.id, SEED_V1.users.editor.id])
    expect(byEditor.assets[1]).toMatchObject({ image: true, width: 64, height: 32 })
    const php = await fetchBytes(`${emulator.url}/storage/uploads${String(byEditor.assets[0]!.path)}`)
    expect([php.status, php.bytes.toString()]).toEqual([200, '<?php echo "php-executed-" . (40 + 2);'])
    expect((await api('/api/cockpit/assets', { headers: MASTER })).json()).toMatchObject({ total: 5 })
  })

  it('addAssets with the read key or no token → 401, nothing stored', async () => {
    expect((await upload([['x.txt', 'x']], SPECIAL)).status).toBe(401)
    expect((await upload([['x.txt', 'x']], {})).status).toBe(401)
    expect(await emulator.listAssets()).toHaveLength(2)
  })

  it('removeAssets {"assets":[{"_id"}]} → 200 [the removed documents], file deleted; the read key → 401', async () => {
    expectJson(await api('/api/cockpit/removeAssets', { headers: SPECIAL, json: { assets: [{ _id: notes._id }] } }), 401, UNAUTHORIZED)
    const answer = await api('/api/cockpit/removeAssets', { headers: MASTER, json: { assets: [{ _id: notes._id }] } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toEqual([notes])
    expect(await emulator.listAssets()).toEqual([image])
    expect((await fetchBytes(`${emulator.url}/storage/uploads${String(notes.path)}`)).status).toBe(302)
  })

  it('updateAssets {"asset":{…}} saves the metadata for any key that reaches it (here the guest\'s)', async () => {
    const answer = await api('/api/cockpit/updateAssets', { headers: GUEST, json: { asset: { _id: image._id, title: 'renamed by guest' } } })
    expect(answer.status).toBe(200)
    expect(answer.json()).toMatchObject({ _id: image._id, title: 'renamed by guest', path: image.path })
    expect((await emulator.listAssets()).find(asset => asset._id === image._id)).toMatchObject({ title: 'renamed by guest' })
  })
})

describe('asset identity with a data directory', () => {
  it('a restart on the same data keeps the seed files\' ids and paths, also through reset(); the bytes are served', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cockpit-emulator-assets-'))
    try {
      const first = await startEmulator({ version: 2, port: 0, dataDir })
      const before = await first.listAssets()
      await first.close()
      const second = await startEmulator({ version: 2, port: 0, dataDir })
      try {
        expect(await second.listAssets()).toEqual(before)
        await second.reset()
        expect(await second.listAssets()).toEqual(before)
        const png = await fetchBytes(`${second.url}/storage/uploads${String(before[0]!.path)}`)
        expect([png.status, md5(png.bytes)]).toEqual([200, SEED_FILES.image.md5])
      }
      finally {
        await second.close()
      }
    }
    finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
