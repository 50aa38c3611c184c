import { createError, getQuery } from 'h3'
import type { H3Event } from 'h3'
import { LRUCache } from 'lru-cache'
import type { CockpitImageFit, CockpitImageFormat } from '../../shared/internal/cockpit-image'
import type { CockpitImageTransform } from '../cockpit/cockpit-types'
import type { GatewayConfig } from '../config/gateway-config'

/** The query parameters of `GET images/:id`; anything else is refused. */
const IMAGE_PARAMS = new Set(['w', 'h', 'fit', 'q', 'format'])

/** A validated image query: the transform sent to Cockpit, and its canonical form (the cache key). */
export interface ImageQuery {
  transform: CockpitImageTransform
  key: string
}

function refuse(code: 'INVALID_QUERY' | 'IMAGE_OPTIONS_NOT_ALLOWED', message: string): never {
  throw createError({ statusCode: 400, statusMessage: code === 'INVALID_QUERY' ? 'Invalid query' : 'Image options not allowed', data: { code, issues: [{ path: [], code: 'custom', message }] } })
}

function allowedNumber(raw: string | undefined, allowed: readonly number[], name: string): number | undefined {
  if (raw === undefined) return undefined
  if (!/^[1-9]\d{0,4}$/.test(raw)) refuse('INVALID_QUERY', `${name} must be a positive integer`)
  const value = Number(raw)
  if (!allowed.includes(value)) refuse('IMAGE_OPTIONS_NOT_ALLOWED', `${name} must be one of ${allowed.join(', ')}`)
  return value
}

function allowedWord<T extends string>(raw: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (raw === undefined) return undefined
  if (!(allowed as readonly string[]).includes(raw)) refuse('IMAGE_OPTIONS_NOT_ALLOWED', `${name} must be one of ${allowed.join(', ')}`)
  return raw as T
}

/**
 * Checks an image query against the configured allow-lists (`images.widths`, `heights`, `qualities`,
 * `formats`, `fits`): unknown or repeated parameters and malformed values are 400 `INVALID_QUERY`, values
 * outside the lists 400 `IMAGE_OPTIONS_NOT_ALLOWED`, and a query without `w` or `h` too. Pure: no upstream call.
 * @param query the parsed query string
 * @param images the image allow-lists
 */
export function parseImageQuery(query: Record<string, unknown>, images: GatewayConfig['images']): ImageQuery {
  const raw: Record<string, string> = {}
  for (const [name, value] of Object.entries(query)) {
    if (!IMAGE_PARAMS.has(name)) refuse('INVALID_QUERY', `Unknown parameter ${name.slice(0, 32)}`)
    if (typeof value !== 'string') refuse('INVALID_QUERY', `${name} must be given once`)
    raw[name] = value
  }
  const transform: CockpitImageTransform = {
    width: allowedNumber(raw.w, images.widths, 'w'),
    height: allowedNumber(raw.h, images.heights, 'h'),
    fit: allowedWord<CockpitImageFit>(raw.fit, images.fits, 'fit'),
    quality: allowedNumber(raw.q, images.qualities, 'q'),
    format: allowedWord<CockpitImageFormat>(raw.format, images.formats, 'format'),
  }
  if (transform.width === undefined && transform.height === undefined) refuse('IMAGE_OPTIONS_NOT_ALLOWED', 'w or h is required')
  const key = [transform.width ?? '', transform.height ?? '', transform.fit ?? '', transform.quality ?? '', transform.format ?? ''].join(',')
  return { transform: { ...transform, maxBytes: images.maxBytes }, key }
}

// The same query string always validates to the same result under one config: once per distinct string.
const memo = new LRUCache<string, ImageQuery>({ max: 1000 })

/**
 * {@link parseImageQuery} for this request, memoised per raw query string.
 * @param event the request
 * @param images the image allow-lists
 */
export function readImageQuery(event: H3Event, images: GatewayConfig['images']): ImageQuery {
  const at = event.path.indexOf('?')
  const rawQuery = at === -1 ? '' : event.path.slice(at + 1)
  let parsed = memo.get(rawQuery)
  if (!parsed) memo.set(rawQuery, parsed = parseImageQuery(getQuery(event), images))
  return parsed
}

/**
 * The allowed width a plain image URL uses for an asset: the smallest allowed width not below the
 * asset's own, else the largest allowed; `undefined` when no width is allowed.
 * @param width the asset's width, if known
 * @param widths the allowed widths
 */
export function pickImageWidth(width: number | null, widths: readonly number[]): number | undefined {
  const sorted = [...widths].sort((a, b) => a - b)
  return sorted.find(allowed => width !== null && allowed >= width) ?? sorted.at(-1)
}
