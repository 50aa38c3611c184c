import { CockpitError } from './cockpit-errors'
import type { CockpitHttp, CockpitHttpResponse } from './cockpit-http'
import { parseCockpitJson } from './cockpit-response'
import type { CockpitAsset, CockpitCallOptions, CockpitImageTransform } from './cockpit-types'
import { classifyCockpitV1Failure } from './cockpit-v1'
import { classifyCockpitV2Failure } from './cockpit-v2'
import { isCockpitPlainObject, requireCockpitKey } from './cockpit-validate'

// Assets and image transforms (contract section 6). Only ever a validated asset id goes upstream, never a
// path: v1's image endpoint reads any server path given as `src` (contract 6.3).

/** What an asset id looks like on both versions (Mongo-style object ids): nothing else is ever sent. */
export const COCKPIT_ASSET_ID_PATTERN = /^[0-9a-f]{24}$/

/** The metadata fields read from Cockpit's asset document; nothing else of it is kept. */
const ASSET_FIELDS = { title: 1, mime: 1, size: 1, width: 1, height: 1 } as const

function requireAssetId(id: unknown): string {
  if (typeof id !== 'string' || !COCKPIT_ASSET_ID_PATTERN.test(id)) throw new CockpitError('INVALID_QUERY')
  return id
}

const dimension = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null

function toCockpitAsset(id: string, doc: unknown): CockpitAsset {
  if (!isCockpitPlainObject(doc) || typeof doc.mime !== 'string') throw new CockpitError('UPSTREAM_ERROR', 200)
  return {
    id,
    title: typeof doc.title === 'string' ? doc.title : '',
    mime: doc.mime,
    size: typeof doc.size === 'number' && doc.size >= 0 ? doc.size : 0,
    width: dimension(doc.width),
    height: dimension(doc.height),
  }
}

/** The transform as Cockpit's query parameters (v2 `mime=png`, v1 `mime=image/png`), bytes wanted (`o=1`). */
function transformQuery(transform: CockpitImageTransform, version: 1 | 2): Record<string, string | undefined> {
  if (transform.width === undefined && transform.height === undefined) throw new CockpitError('INVALID_QUERY')
  const format = transform.format && (version === 2 ? transform.format : `image/${transform.format}`)
  return {
    w: transform.width?.toString(),
    h: transform.height?.toString(),
    m: transform.fit,
    q: transform.quality?.toString(),
    mime: format,
    o: '1',
  }
}

const isImageAnswer = (response: CockpitHttpResponse) => /^image\//i.test(response.headers.get('content-type') ?? '')

/**
 * v2 `GET /api/assets/{id}`: the asset's metadata, `null` for an unknown id (an empty 404). Any valid key
 * may read it (no permission is checked, contract 6.2).
 * @param http the shared transport
 * @param id the asset id
 * @param options the key
 */
export async function getCockpitV2Asset(http: CockpitHttp, id: string, options: CockpitCallOptions): Promise<CockpitAsset | null> {
  const response = await http({
    method: 'GET',
    path: `/api/assets/${requireAssetId(id)}`,
    secretHeaders: { 'api-key': requireCockpitKey(options.key) },
    operation: 'asset:get',
    retry: true,
  })
  if (response.status === 200) return toCockpitAsset(id, parseCockpitJson(response.text))
  if (response.status === 404 && response.text.trim() === '') return null
  throw classifyCockpitV2Failure(response)
}

/**
 * v2 `GET /api/assets/image/{id}?…&o=1`: the transformed bytes; `null` for an unknown id (400 "Asset not
 * found") or an asset that is no image (an empty 404).
 * @param http the shared transport
 * @param id the asset id
 * @param transform options from the gateway's allow-lists
 * @param options the key
 */
export async function getCockpitV2Image(http: CockpitHttp, id: string, transform: CockpitImageTransform, options: CockpitCallOptions): Promise<Uint8Array | null> {
  const response = await http({
    method: 'GET',
    path: `/api/assets/image/${requireAssetId(id)}`,
    query: transformQuery(transform, 2),
    secretHeaders: { 'api-key': requireCockpitKey(options.key) },
    accept: 'image/*',
    binary: true,
    maxBytes: transform.maxBytes,
    operation: 'image:get',
    retry: true,
  })
  if (response.status === 200) {
    if (!isImageAnswer(response)) throw new CockpitError('UPSTREAM_ERROR', 200)
    return response.bytes ?? new Uint8Array(0)
  }
  if (response.status === 404 || response.status === 400) return null
  throw classifyCockpitV2Failure({ ...response, text: '' })
}

/**
 * v1 asset metadata: the list `/api/cockpit/assets` filtered by `_id` (`/api/cockpit/asset/{id}` is broken,
 * contract 6.3); `null` for an unknown id. Needs the master or an account key.
 * @param http the shared transport
 * @param id the asset id
 * @param options the key
 */
export async function getCockpitV1Asset(http: CockpitHttp, id: string, options: CockpitCallOptions): Promise<CockpitAsset | null> {
  const response = await http({
    method: 'POST',
    path: '/api/cockpit/assets',
    json: { filter: { _id: requireAssetId(id) }, fields: ASSET_FIELDS, limit: 1 },
    secretHeaders: { 'cockpit-token': requireCockpitKey(options.key) },
    operation: 'asset:get',
    retry: true,
  })
  if (response.status !== 200) throw classifyCockpitV1Failure(response)
  const body = parseCockpitJson(response.text)
  if (!isCockpitPlainObject(body) || !Array.isArray(body.assets)) throw new CockpitError('UPSTREAM_ERROR', 200)
  return body.assets.length ? toCockpitAsset(id, body.assets[0]) : null
}

/**
 * v1 `GET /api/cockpit/image?src=<asset id>&…&o=1`: the transformed bytes; `null` for an unknown id (404)
 * or an asset that is no image (v1 then answers the file's own URL, never passed on). `src` is always a
 * checked asset id, never a path (v1 would read any server path, contract 6.3).
 * @param http the shared transport
 * @param id the asset id
 * @param transform options from the gateway's allow-lists
 * @param options the key (master or account key)
 */
export async function getCockpitV1Image(http: CockpitHttp, id: string, transform: CockpitImageTransform, options: CockpitCallOptions): Promise<Uint8Array | null> {
  const response = await http({
    method: 'GET',
    path: '/api/cockpit/image',
    query: { src: requireAssetId(id), ...transformQuery(transform, 1) },
    secretHeaders: { 'cockpit-token': requireCockpitKey(options.key) },
    accept: 'image/*',
    binary: true,
    maxBytes: transform.maxBytes,
    operation: 'image:get',
    retry: true,
  })
  if (response.status === 200) return isImageAnswer(response) ? response.bytes ?? new Uint8Array(0) : null
  if (response.status === 404) return null
  throw classifyCockpitV1Failure({ ...response, text: '' })
}
