import { setResponseHeader, setResponseStatus, send } from 'h3'
import { getAssetKey, md5 } from './assets-seed'
import type { FileStore } from './files'
import { LIME_HTML, sendEmptyNotFound, sendExact, sendJson, sendSystemError } from './http'
import type { ResizeMode } from './image-transform'
import { HONOURED_FORMATS, planTransform, readDimension, readResizeMode, renderTransform } from './image-transform'
import { isPhpTruthy, phpIntval } from './params'
import type { Doc } from './query'
import type { ApiRequest } from './request'
import { getHeaderValue } from './request'
import { getServerBaseUrl } from './storage-files'
import type { DocumentStore } from './store'

/** What the v2 asset routes work on. */
export interface V2AssetContext {
  request: ApiRequest
  store: DocumentStore
  files: FileStore
}

/** Cockpit 2.13's image presets *(code)*: all WebP. */
export const V2_IMAGE_PRESETS: Readonly<Record<string, { w: number, h: number, m: ResizeMode, mime: string }>> = {
  thumbnail: { w: 150, h: 150, m: 'thumbnail', mime: 'webp' },
  small: { w: 400, h: 300, m: 'bestFit', mime: 'webp' },
  medium: { w: 800, h: 600, m: 'bestFit', mime: 'webp' },
  large: { w: 1200, h: 900, m: 'bestFit', mime: 'webp' },
  hero: { w: 1920, h: 1080, m: 'bestFit', mime: 'webp' },
}

/** How long Cockpit lets clients cache `o=1` answers: 30 days. */
const MAX_AGE_SECONDS = 2_592_000

async function findAsset(context: V2AssetContext, id: string): Promise<Doc | undefined> {
  return (await context.store.read(getAssetKey(2))).find(doc => doc._id === id)
}

/**
 * Routes `/api/assets/…` after the key check: `GET /api/assets/{id}` and
 * `GET /api/assets/image/{id}[/{preset}]`. Everything else (listing, uploads) is the empty 404.
 */
export async function routeV2Assets(context: V2AssetContext, segments: string[]): Promise<void> {
  const { request } = context
  const [, first, second, third, ...rest] = segments
  if (request.method !== 'GET' || rest.length > 0 || first === undefined) return sendEmptyNotFound(request.event)
  if (first === 'image' && second !== undefined) return transformV2Image(context, second, third)
  if (second !== undefined) return sendEmptyNotFound(request.event)
  // `/assets/presets` lands here too: Cockpit registers `/assets/{id}` first
  const asset = await findAsset(context, first)
  return asset ? sendJson(request.event, 200, asset) : sendEmptyNotFound(request.event)
}

/** The options of one transform, from the query or a preset. */
interface TransformOptions {
  width: number | null
  height: number | null
  mode: ResizeMode
  quality: number
  /** File extension of the result (`webp`, `png`, or whatever `mime` said). */
  extension: string
}

function readTransformOptions(request: ApiRequest, asset: Doc, preset: (typeof V2_IMAGE_PRESETS)[string] | undefined): TransformOptions {
  const { params } = request
  const sourceExtension = String(asset.path).slice(String(asset.path).lastIndexOf('.') + 1).toLowerCase()
  const mime = preset?.mime ?? (typeof params.mime === 'string' && params.mime !== '' ? params.mime : 'auto')
  const acceptsWebp = (getHeaderValue(request, 'accept') ?? '').includes('image/webp')
  return {
    width: preset ? preset.w : readDimension(params.w, Number(asset.width)),
    height: preset ? preset.h : readDimension(params.h, Number(asset.height)),
    mode: preset ? preset.m : readResizeMode(params.m),
    quality: Object.hasOwn(params, 'q') ? phpIntval(params.q) : 80,
    extension: mime === 'auto' ? (acceptsWebp ? 'webp' : sourceExtension) : mime,
  }
}

/**
 * `GET /api/assets/image/{id}[/{preset}]`: resizes for real (nearest neighbour) and stores the
 * thumbnail under the public `storage/tmp/thumbs/`. Answers its absolute URL as `text/html`, or
 * the bytes (`o=1`, immutable caching, ETag, 304), a data URL (`b64=1`) or a 302 (`re=1`).
 */
export async function transformV2Image(context: V2AssetContext, id: string, presetName?: string): Promise<void> {
  const { request, files } = context
  const { event, params } = request
  const asset = await findAsset(context, id)
  if (!asset) return sendJson(event, 400, { error: 'Asset not found' })
  if (asset.type !== 'image') return sendEmptyNotFound(event)
  let preset: (typeof V2_IMAGE_PRESETS)[string] | undefined
  if (presetName !== undefined) {
    preset = Object.hasOwn(V2_IMAGE_PRESETS, presetName) ? V2_IMAGE_PRESETS[presetName] : undefined
    if (!preset) return sendJson(event, 404, { error: 'Preset not found' })
  }
  const options = readTransformOptions(request, asset, preset)
  if (options.width === null && options.height === null) return sendJson(event, 400, { error: 'Target width or height parameter is missing' })
  const plan = planTransform({ width: Number(asset.width), height: Number(asset.height) }, options.width, options.height, options.mode)
  const source = await files.read(`uploads${String(asset.path)}`)
  if (!plan || !source) return sendSystemError(event)

  const hash = md5(JSON.stringify([asset._id, asset._hash, plan.width, plan.height, plan.crop, options.mode, options.extension]))
  const name = `${hash}_${options.quality}_${options.mode}.${options.extension}`
  const path = `tmp/thumbs/${name}`
  let bytes = await files.read(path)
  if (!bytes) {
    bytes = renderTransform(source, plan)
    await files.write(path, bytes)
  }
  const url = `${getServerBaseUrl(event)}/storage/${path}`
  const isKnownFormat = (HONOURED_FORMATS as readonly string[]).includes(options.extension)

  if (isPhpTruthy(params.o)) {
    const etag = `"${hash}"`
    const modified = Number(asset._modified) * 1000
    setResponseHeader(event, 'cache-control', `public, max-age=${MAX_AGE_SECONDS}, immutable`)
    setResponseHeader(event, 'etag', etag)
    setResponseHeader(event, 'expires', new Date(Date.now() + MAX_AGE_SECONDS * 1000).toUTCString())
    setResponseHeader(event, 'last-modified', new Date(modified).toUTCString())
    const ifNoneMatch = getHeaderValue(request, 'if-none-match')
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').map(tag => tag.trim()).includes(etag)) {
      setResponseStatus(event, 304)
      return send(event, '')
    }
    setResponseStatus(event, 200)
    setResponseHeader(event, 'content-type', `image/${options.extension}`)
    setResponseHeader(event, 'content-length', bytes.length)
    return send(event, bytes)
  }
  if (isPhpTruthy(params.b64)) {
    const type = isKnownFormat ? options.extension : String(asset.mime).replace('image/', '')
    return sendExact(event, 200, `data:image/${type};base64,${bytes.toString('base64')}`, LIME_HTML)
  }
  if (isPhpTruthy(params.re)) {
    setResponseHeader(event, 'location', url)
    return sendExact(event, 302, '', LIME_HTML)
  }
  return sendExact(event, 200, url, LIME_HTML)
}
