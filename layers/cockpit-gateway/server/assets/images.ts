import { createError, getRequestHeader, setResponseHeader, setResponseHeaders, setResponseStatus } from 'h3'
import type { H3Event } from 'h3'
import { LRUCache } from 'lru-cache'
import { useCockpitClient } from '../cockpit/cockpit'
import { getCachedCockpitRead } from '../cache/cockpit-cache'
import { withCockpitErrors } from '../cockpit/cockpit-errors'
import { getGatewayClientIp } from '../client-address/client-ip'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayConfig } from '../config/gateway-config'
import { getGatewayRoutePrefixes } from '../guards/gateway-paths'
import { requireRateLimit } from '../rate-limit/gateway-rate-limit'
import { RASTER_IMAGE_TYPES, computeEtag, fromBase64, sniffRasterImage, toBase64 } from './image-bytes'
import { pickImageWidth, readImageQuery } from './image-options'

/**
 * The cache unit of every asset read (metadata and image bytes). Not a model name (`:` is not allowed in
 * one), so no model's invalidation touches it.
 */
const ASSETS_CACHE_UNIT = ':assets'

const IMMUTABLE = 'public, max-age=31536000, immutable'

/** A refusal kept in the cache like an answer (so a bad id costs Cockpit one call per cache period, not one per request). */
type Refusal = 'NOT_FOUND' | 'NOT_AN_IMAGE'

function refusalError(code: Refusal) {
  return code === 'NOT_FOUND'
    ? createError({ statusCode: 404, statusMessage: 'Asset not found', data: { code: 'NOT_FOUND' } })
    : createError({ statusCode: 404, statusMessage: 'Asset is not an image', data: { code: 'NOT_AN_IMAGE' } })
}

/** The key image and asset reads use: `assetKey`, else the read key. */
function assetKey(config: GatewayConfig): string {
  return config.cockpit.assetKey || config.cockpit.readKey
}

/** Image and asset reads count against the `read` limit per client address (no session is read for them). */
function countAssetRead(event: H3Event, config: GatewayConfig): Promise<void> {
  return requireRateLimit(event, 'read', getGatewayClientIp(event, config.trustProxy))
}

interface DecodedImage {
  body: string
  type: string
  etag: string
  bytes: Uint8Array
}

// Cached bodies are text (`<type> <etag> <base64>`, what the cache stores); the decoded bytes are kept
// here, so a hit costs a lookup, not a base64 decode. Bounded by count and bytes.
const decoded = new LRUCache<string, DecodedImage>({ max: 500, maxSize: 64 * 1024 * 1024, sizeCalculation: image => image.bytes.byteLength + 128 })

function decodeImage(cacheKey: string, body: string): DecodedImage | Refusal {
  const known = decoded.get(cacheKey)
  if (known && known.body === body) return known
  if (body.startsWith('!')) return body.slice(1) as Refusal
  const [type = '', etag = '', base64 = ''] = body.split(' ', 3)
  const image = { body, type, etag, bytes: fromBase64(base64) }
  decoded.set(cacheKey, image)
  return image
}

/**
 * `GET images/:id?w=&h=&fit=&q=&format=`: an image asset's transformed bytes through Cockpit's image API.
 * Options outside the configured allow-lists are refused before any upstream call; the asset must be a
 * raster image (metadata checked first, and the bytes' signature after: no SVG, no text passes); the
 * answer is cached server-side (one upstream flight per variant), sent with an ETag (304 on
 * `If-None-Match`) and `Cache-Control: public, max-age=31536000, immutable`.
 * @param event the request
 * @param id the asset id (already checked: 24 hex)
 */
export async function serveCockpitImage(event: H3Event, id: string): Promise<Uint8Array | string> {
  const config = useGatewayConfig(event)
  const { transform, key } = readImageQuery(event, config.images)
  await countAssetRead(event, config)
  const cacheKey = `image:${id}:${key}`
  const { body, status } = await getCachedCockpitRead(event, ASSETS_CACHE_UNIT, cacheKey, async () => {
    const client = useCockpitClient(event)
    const asset = await withCockpitErrors(client.getAsset(id, { key: assetKey(config) }))
    if (!asset) return '!NOT_FOUND'
    if (!RASTER_IMAGE_TYPES.has(asset.mime.toLowerCase())) return '!NOT_AN_IMAGE'
    const bytes = await withCockpitErrors(client.getImage(id, transform, { key: assetKey(config) }))
    if (!bytes) return '!NOT_AN_IMAGE'
    const type = sniffRasterImage(bytes)
    if (!type) throw createError({ statusCode: 502, statusMessage: 'Upstream error', data: { code: 'UPSTREAM_ERROR' } })
    return `${type} ${await computeEtag(bytes)} ${toBase64(bytes)}`
  })
  setResponseHeader(event, 'x-cockpit-gateway-cache', status)
  const image = decodeImage(cacheKey, body)
  if (typeof image === 'string') throw refusalError(image)
  setResponseHeaders(event, { 'cache-control': IMMUTABLE, 'etag': image.etag })
  const ifNoneMatch = getRequestHeader(event, 'if-none-match')
  if (ifNoneMatch && (ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some(tag => tag.trim().replace(/^W\//, '') === image.etag))) {
    setResponseStatus(event, 304)
    return ''
  }
  setResponseHeaders(event, { 'content-type': image.type, 'content-length': image.bytes.byteLength })
  return image.bytes
}

/**
 * `GET assets/:id`: an asset's allow-listed metadata (`id`, `title`, `mime`, `size`, `width`, `height`)
 * and `image`, the gateway URL of its image (a raster image only, else `null`). Cached like a public read.
 * @param event the request
 * @param id the asset id (already checked: 24 hex)
 */
export async function serveCockpitAsset(event: H3Event, id: string): Promise<string> {
  const config = useGatewayConfig(event)
  await countAssetRead(event, config)
  const { prefix } = getGatewayRoutePrefixes(event)
  const { body, status } = await getCachedCockpitRead(event, ASSETS_CACHE_UNIT, `meta:${id}`, async () => {
    const asset = await withCockpitErrors(useCockpitClient(event).getAsset(id, { key: assetKey(config) }))
    if (!asset) return '!NOT_FOUND'
    const width = pickImageWidth(asset.width, config.images.widths)
    const image = RASTER_IMAGE_TYPES.has(asset.mime.toLowerCase()) && width !== undefined ? `${prefix}/images/${id}?w=${width}` : null
    return JSON.stringify({ ...asset, image })
  })
  setResponseHeader(event, 'x-cockpit-gateway-cache', status)
  if (body.startsWith('!')) throw refusalError(body.slice(1) as Refusal)
  setResponseHeader(event, 'content-type', 'application/json')
  return body
}

/**
 * Uploads through the gateway: always 501 `NOT_SUPPORTED`. v2 has no upload endpoint in its API, and
 * v1's lets any account key store any file type, PHP included, which its web server then runs (contract 6.3).
 */
export function refuseCockpitUpload(): never {
  throw createError({ statusCode: 501, statusMessage: 'Uploads are not supported', data: { code: 'NOT_SUPPORTED' } })
}
