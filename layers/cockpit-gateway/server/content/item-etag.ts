import { LRUCache } from 'lru-cache'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import type { CockpitItem } from '../cockpit/cockpit-types'
import { toPublicCockpitItem } from './public-fields'

/**
 * JSON with object keys sorted at every level (undefined members left out): one text per value, whatever
 * order the keys came in.
 * @param value a JSON-compatible value
 */
export function toCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toCanonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.keys(value).sort().filter(key => (value as Record<string, unknown>)[key] !== undefined)
    return `{${entries.map(key => `${JSON.stringify(key)}:${toCanonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

async function sha256(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  let binary = ''
  for (let i = 0; i < 18; i++) binary += String.fromCharCode(digest[i]!)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_')
}

/**
 * The strong ETag of a stored item: a SHA-256 of its public fields in canonical JSON. Not `_modified`,
 * which has one-second resolution: two saves within a second would share it.
 * @param model the declared model
 * @param item the item as Cockpit returns it (extra fields are ignored) or as the gateway answers it
 */
export async function getCockpitItemEtag(model: CockpitModel, item: CockpitItem): Promise<string> {
  return `"${await sha256(toCanonicalJson(toPublicCockpitItem(model, item)))}"`
}

// The response body of a read → its ETag, so a cache hit (the same body text) costs one map lookup.
const bodyMemo = new LRUCache<string, string>({ max: 2000, maxSize: 16 * 1024 * 1024, sizeCalculation: text => text.length + 64 })

/**
 * The ETag of a full single-item read's response body (the JSON of the public item), memoised per body.
 * @param model the declared model
 * @param body the response body as sent
 */
export async function getCockpitItemBodyEtag(model: CockpitModel, body: string): Promise<string> {
  let etag = bodyMemo.get(body)
  if (etag === undefined) {
    etag = await getCockpitItemEtag(model, JSON.parse(body) as CockpitItem)
    bodyMemo.set(body, etag)
  }
  return etag
}

/**
 * Whether an `If-Match` header value lets a write of the item with `etag` go ahead (RFC 9110 strong
 * comparison: a weak tag never matches; `*` matches any existing item).
 * @param header the header's value
 * @param etag the item's current ETag
 */
export function isCockpitIfMatchSatisfied(header: string, etag: string): boolean {
  for (const part of header.split(',')) {
    const tag = part.trim()
    if (tag === '*' || tag === etag) return true
  }
  return false
}
