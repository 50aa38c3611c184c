import { isPlainObject } from './json'
import type { ApiRequest } from './request'

/**
 * Reads `filter`, `fields` or `sort` of a v1 call: an object from a JSON body, an object from the
 * query's bracket syntax with `"true"`/`"false"`/numbers turned back into values (Cockpit's
 * `_fixStringBooleanNumericValues`), or a JSON string. Anything else is ignored.
 */
export function readV1ObjectParam(request: ApiRequest, name: string): Record<string, unknown> | undefined {
  const value = request.params[name]
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value)
      return isPlainObject(parsed) ? parsed : undefined
    }
    catch {
      return undefined
    }
  }
  if (!isPlainObject(value)) return undefined
  const fromQueryString = Object.hasOwn(request.query, name) && !Object.hasOwn(request.body, name)
  return fromQueryString ? (fixStringValues(value) as Record<string, unknown>) : value
}

/** `"true"` → true, `"false"` → false, numeric strings → numbers, recursively. */
export function fixStringValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fixStringValues)
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fixStringValues(item)]))
  if (value === 'true') return true
  if (value === 'false') return false
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value)
  return value
}
