import { readMultipartFormData, send, setResponseHeader, setResponseStatus } from 'h3'
import { createUploadPath, getAssetKey, getSeedFileBytes, md5 } from './assets-seed'
import type { FileStore } from './files'
import { createObjectId, nowSeconds } from './ids'
import { JSON_TYPE, sendExact, sendJson, sendSystemError } from './http'
import { isPlainObject } from './json'
import { planTransform, readDimension, readResizeMode, renderTransform } from './image-transform'
import { isPhpTruthy, phpIntval } from './params'
import { decodePng, getDominantColors, isPng } from './png'
import type { Doc } from './query'
import { filterDocuments, projectDocument, runQuery } from './query'
import { getFileContentType, getServerBaseUrl } from './storage-files'
import type { V1Context } from './v1-collections'
import { getV1CallerId } from './v1-auth'
import { readV1ObjectParam } from './v1-params'

/** What the v1 asset actions need: the usual context plus the file store. */
export interface V1AssetContext extends V1Context {
  files: FileStore
}

/**
 * Server files that `/api/cockpit/image?src=/…` can "see". Cockpit 0.12 reads the real file system
 * (a file-existence oracle); the emulator answers from this fixed list instead and never touches
 * the disk. `text` = an existing file that is no image; `image` = an image outside the docroot
 * (drawn with the seed PNG's bytes).
 */
export const V1_FAKE_SERVER_FILES: Readonly<Record<string, 'text' | 'image'>> = {
  '/etc/hostname': 'text',
  '/etc/hosts': 'text',
  '/etc/passwd': 'text',
  '/usr/share/gitweb/static/git-logo.png': 'image',
}

const MISSING_ID = '{"error": "Missing id parameter"}'
const sendFalse = (context: V1Context) => sendExact(context.request.event, 404, '', JSON_TYPE)
const readAssets = (context: V1AssetContext) => context.store.read(getAssetKey(1))

/** `/api/cockpit/assets`: `{assets, total}` with `filter`, `fields`, `sort` (default `{created:-1}`), `limit`, `skip`. */
export async function listV1Assets(context: V1AssetContext): Promise<void> {
  const { request } = context
  const filter = readV1ObjectParam(request, 'filter') ?? {}
  const sort = readV1ObjectParam(request, 'sort') ?? { created: -1 }
  const fields = readV1ObjectParam(request, 'fields')
  const docs = await readAssets(context)
  const found = runQuery(docs, {
    filter,
    sort: Object.fromEntries(Object.entries(sort).map(([key, direction]) => [key, phpIntval(direction)])),
    limit: isPhpTruthy(request.params.limit) ? phpIntval(request.params.limit) : 0,
    skip: isPhpTruthy(request.params.skip) ? phpIntval(request.params.skip) : 0,
  })
  // MongoLite keeps the stored key order in projections (`_id` stays last)
  const assets = fields ? found.map(doc => keepKeyOrder(doc, projectDocument(doc, fields))) : found
  return sendJson(request.event, 200, { assets, total: filterDocuments(docs, filter).length })
}

function keepKeyOrder(original: Doc, projected: Doc): Doc {
  return Object.fromEntries(Object.keys(original).filter(key => Object.hasOwn(projected, key)).map(key => [key, projected[key]]))
}

/**
 * `/api/cockpit/asset/{id}`: broken as observed, `404` empty even for an existing id (it indexes
 * the `{assets,total}` wrapper); without an id `412 {"error": "Missing id parameter"}`.
 */
export function getV1Asset(context: V1AssetContext, id: string | undefined): Promise<void> {
  if (!id && !isPhpTruthy(context.request.params.id)) return sendExact(context.request.event, 412, MISSING_ID, JSON_TYPE)
  return sendFalse(context)
}

/** What `src` points at: a stored file (`storagePath` below `storage/`) or a fake server file. */
type ImageSource
  = | { kind: 'stored', storagePath: string, isImage: boolean, modified: number }
    | { kind: 'server', path: string, isImage: boolean }

async function resolveSource(context: V1AssetContext, src: string): Promise<ImageSource | null> {
  if (/^[0-9a-f]{24}$/.test(src)) {
    const asset = (await readAssets(context)).find(doc => doc._id === src)
    return asset ? { kind: 'stored', storagePath: `uploads${String(asset.path)}`, isImage: asset.image === true, modified: Number(asset.modified) } : null
  }
  const uploads = /(?:^|\/)storage\/(uploads\/.+)$/.exec(src.replace(/^https?:\/\/[^/]+/, ''))
  if (uploads) {
    const bytes = await context.files.read(uploads[1]!)
    return bytes ? { kind: 'stored', storagePath: uploads[1]!, isImage: isPng(bytes), modified: 0 } : null
  }
  const fake = Object.hasOwn(V1_FAKE_SERVER_FILES, src) ? V1_FAKE_SERVER_FILES[src] : undefined
  return fake ? { kind: 'server', path: src, isImage: fake === 'image' } : null
}

const MIME_PARAM = /^image\/(jpeg|png|gif|webp|bmp)$/

/**
 * `/api/cockpit/image?src=…&w=…`: the thumbnail's bare URL in an `application/json` answer (a real
 * resize, stored under the public `storage/thumbs/`); `o=1` bytes without caching headers, `b64=1`,
 * `re=1`. Errors answer `200 {"error":…}`, an unknown source `404`, a bad size the 500.
 */
export async function transformV1Image(context: V1AssetContext): Promise<void> {
  const { request, files } = context
  const { event, params } = request
  const src = typeof params.src === 'string' ? params.src : ''
  if (!src) return sendJson(event, 200, { error: 'Missing src parameter' })
  const source = await resolveSource(context, src)
  if (!source) return sendExact(event, 404, '', JSON_TYPE)
  const base = getServerBaseUrl(event)
  if (!source.isImage) return sendExact(event, 200, source.kind === 'stored' ? `${base}/storage/${source.storagePath}` : `${base}${source.path}`, JSON_TYPE)
  // a fake image outside the docroot is drawn with the seed PNG's bytes
  const bytes = source.kind === 'stored' ? await files.read(source.storagePath) : getSeedFileBytes('image')
  if (!bytes) return sendExact(event, 404, '', JSON_TYPE)
  const image = decodePng(bytes)
  const width = readDimension(params.w, image.width)
  const height = readDimension(params.h, image.height)
  if (width === null && height === null) return sendJson(event, 200, { error: 'Target width or height parameter is missing' })
  const mode = readResizeMode(params.m)
  const quality = Object.hasOwn(params, 'q') ? phpIntval(params.q) : 100
  const mime = typeof params.mime === 'string' ? MIME_PARAM.exec(params.mime)?.[1] : undefined
  const sourcePath = source.kind === 'stored' ? source.storagePath : source.path
  const extension = mime ?? sourcePath.slice(sourcePath.lastIndexOf('.') + 1).toLowerCase()
  const plan = planTransform(image, width, height, mode)
  if (!plan) return sendSystemError(event)
  const mtime = source.kind === 'stored' ? source.modified : 0
  const name = `${md5(sourcePath)}_${plan.width}x${plan.height}_${quality}_${mtime}_${mode}_${md5(JSON.stringify([plan.crop, extension]))}.${extension}`
  const path = `thumbs/${name}`
  let thumb = await files.read(path)
  if (!thumb) {
    thumb = renderTransform(bytes, plan)
    await files.write(path, thumb)
  }
  const url = `${base}/storage/${path}`
  if (isPhpTruthy(params.o)) {
    setResponseStatus(event, 200)
    setResponseHeader(event, 'content-type', `image/${extension}`)
    setResponseHeader(event, 'content-length', thumb.length)
    return send(event, thumb)
  }
  if (isPhpTruthy(params.b64)) return sendExact(event, 200, `data:image/${extension};base64,${thumb.toString('base64')}`, JSON_TYPE)
  if (isPhpTruthy(params.re)) {
    setResponseHeader(event, 'location', url)
    return sendExact(event, 302, '', JSON_TYPE)
  }
  return sendExact(event, 200, url, JSON_TYPE)
}

const DOCUMENT_EXTENSIONS = new Set(['txt', 'pdf', 'doc', 'docx', 'odt', 'rtf', 'md', 'csv', 'xls', 'xlsx', 'ppt', 'pptx'])
const CODE_EXTENSIONS = new Set(['php', 'js', 'css', 'html', 'htm', 'json', 'xml', 'sh', 'py'])

/** The v1 asset document of an upload. */
function describeUpload(fileName: string, path: string, bytes: Buffer, byId: string | null): Doc {
  const extension = fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase()
  const mime = getFileContentType(fileName).replace(/;.*$/, '')
  let image: ReturnType<typeof decodePng> | null = null
  try {
    image = isPng(bytes) ? decodePng(bytes) : null
  }
  catch { /* a broken PNG is stored like any file */ }
  const now = nowSeconds()
  return {
    path,
    title: fileName,
    mime,
    description: '',
    tags: [],
    size: bytes.length,
    image: image !== null,
    video: false,
    audio: false,
    archive: false,
    document: DOCUMENT_EXTENSIONS.has(extension),
    code: CODE_EXTENSIONS.has(extension),
    colors: image ? getDominantColors(image) : null,
    width: image?.width ?? null,
    height: image?.height ?? null,
    created: now,
    modified: now,
    _by: byId,
    _id: createObjectId(),
  }
}

/**
 * `/api/cockpit/addAssets` (multipart `files[]`): stores every file, with no extension filter, and
 * answers `{uploaded, failed, assets}`. `_by` is the account, `null` for the master key.
 */
export async function addV1Assets(context: V1AssetContext): Promise<void> {
  const { request, files, store, caller } = context
  const parts = (request.method === 'POST' ? await readMultipartFormData(request.event).catch(() => undefined) : undefined) ?? []
  const uploads = parts.filter(part => (part.name === 'files[]' || part.name === 'files') && part.filename)
  const assets = uploads.map((part) => {
    const path = createUploadPath(part.filename!)
    return { bytes: Buffer.from(part.data), doc: describeUpload(part.filename!, path, Buffer.from(part.data), getV1CallerId(caller)) }
  })
  for (const asset of assets) await files.write(`uploads${String(asset.doc.path)}`, asset.bytes)
  await store.mutate(getAssetKey(1), (docs) => {
    docs.push(...assets.map(asset => ({ ...asset.doc })))
  })
  return sendJson(request.event, 200, { uploaded: uploads.map(part => part.filename), failed: [], assets: assets.map(asset => asset.doc) })
}

/** `assets`/`asset` as one document or id, or a list of them. */
function readList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value
  if (isPlainObject(value) && Object.hasOwn(value, '0')) return Object.values(value)
  return [value]
}

/** `/api/cockpit/removeAssets` with `{assets:[{_id}]}`: the removed documents; their files are deleted. */
export async function removeV1Assets(context: V1AssetContext): Promise<void> {
  const { request, files, store } = context
  if (!isPhpTruthy(request.params.assets)) return sendFalse(context)
  const ids = new Set<unknown>(readList(request.params.assets).map(item => (isPlainObject(item) ? item._id : item)).filter(id => typeof id === 'string'))
  const removed = await store.mutate(getAssetKey(1), (docs) => {
    const doomed = docs.filter(doc => ids.has(doc._id))
    docs.splice(0, docs.length, ...docs.filter(doc => !ids.has(doc._id)))
    return doomed
  })
  for (const doc of removed) await files.remove(`uploads${String(doc.path)}`)
  return sendJson(request.event, 200, removed)
}

/** `/api/cockpit/updateAssets` with `{asset:{_id,…}}` (or a list): merges the metadata, for any key that reaches it. */
export async function updateV1Assets(context: V1AssetContext): Promise<void> {
  const { request, store } = context
  const sent = request.params.asset
  if (!isPhpTruthy(sent)) return sendFalse(context)
  const list = readList(sent).filter(isPlainObject)
  const now = nowSeconds()
  const saved = await store.mutate(getAssetKey(1), docs => list.map((asset) => {
    const changes = { ...asset, modified: now }
    const existing = docs.find(doc => doc._id === asset._id)
    if (existing) Object.assign(existing, changes)
    return existing ? { ...existing } : changes
  }))
  return sendJson(request.event, 200, Array.isArray(sent) ? saved : saved[0])
}
