import { CockpitError } from './cockpit-errors'
import type { CockpitListQuery } from './cockpit-types'
import { COCKPIT_NAME_PATTERN } from '../../shared/internal/cockpit-name'

/** What an item id may look like before it becomes a path segment (Cockpit's own ids are 24 hex). */
export const COCKPIT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/** What a locale may look like (v2 `locale`, v1 `lang`). */
export const COCKPIT_LOCALE_PATTERN = /^[A-Za-z0-9_-]{1,32}$/

// Visible ASCII only: anything else (a trailing newline from an env file, a space) would either be
// silently trimmed by `Headers` or make it throw a TypeError whose message quotes the value, the key.
const KEY_PATTERN = /^[\x21-\x7E]{1,512}$/

/**
 * Returns the key if it can be sent, otherwise fails closed before any network call: an empty or
 * unusable key must never turn into an anonymous upstream call (v2 would then try the `public` key).
 * @param key the configured key
 * @throws CockpitError `MISSING_KEY` (the message never quotes the key)
 */
export function requireCockpitKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY_PATTERN.test(key)) throw new CockpitError('MISSING_KEY')
  return key
}

/**
 * Checks a model/collection name and returns it encoded as a path segment.
 * @param model the model name
 * @throws CockpitError `INVALID_QUERY`, before any network call
 */
export function encodeCockpitModel(model: unknown): string {
  if (typeof model !== 'string' || !COCKPIT_NAME_PATTERN.test(model)) throw new CockpitError('INVALID_QUERY')
  return encodeURIComponent(model)
}

/**
 * Checks an item id and returns it encoded as a path segment.
 * @param id the item id
 * @throws CockpitError `INVALID_QUERY`, before any network call
 */
export function encodeCockpitId(id: unknown): string {
  if (typeof id !== 'string' || !COCKPIT_ID_PATTERN.test(id)) throw new CockpitError('INVALID_QUERY')
  return encodeURIComponent(id)
}

/**
 * Whether a value is a plain JSON object (not an array, not null, not a class instance).
 * @param value any value
 */
export function isCockpitPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Returns the write payload without `_id`: the id comes from the path only, because an `_id` in the
 * data turns a Cockpit create into an update (v1 and v2 alike) and would let a body pick its target.
 * @param data the item fields to write
 * @throws CockpitError `INVALID_DATA` when `data` is not a plain object
 */
export function toCockpitWriteData(data: unknown): Record<string, unknown> {
  if (!isCockpitPlainObject(data)) throw new CockpitError('INVALID_DATA')
  const { _id: _ignored, ...rest } = data
  return rest
}

/**
 * Serialises a filter/sort/fields object to JSON.
 * @param value the object to serialise
 * @throws CockpitError `INVALID_QUERY` for a non-object or a value JSON can't hold (BigInt, cycles)
 */
export function stringifyCockpitJson(value: unknown): string {
  if (!isCockpitPlainObject(value)) throw new CockpitError('INVALID_QUERY')
  try {
    return JSON.stringify(value)
  }
  catch {
    throw new CockpitError('INVALID_QUERY')
  }
}

/** A list query whose parts were checked; JSON parts are already serialised. */
export interface CockpitCheckedListQuery {
  filter?: Record<string, unknown>
  sort?: Record<string, 1 | -1>
  fields?: Record<string, 0 | 1>
  limit?: number
  /** @default 0 */
  skip: number
  locale?: string
}

/**
 * Checks the parts of a list query the client relies on (the gateway validated the content of
 * `filter` already): integers in range, `1 | -1` sorts, `0 | 1` projections, a plain locale.
 * @param query the list query
 * @param fields projection passed through the call options, used when the query has none
 * @param locale locale passed through the call options, used when the query has none
 * @throws CockpitError `INVALID_QUERY`, before any network call
 */
export function checkCockpitListQuery(query: CockpitListQuery | undefined, fields?: Record<string, 0 | 1>, locale?: string): CockpitCheckedListQuery {
  if (query !== undefined && !isCockpitPlainObject(query)) throw new CockpitError('INVALID_QUERY')
  const q: CockpitListQuery = query ?? {}
  const checked: CockpitCheckedListQuery = { skip: 0 }
  if (q.filter !== undefined) {
    stringifyCockpitJson(q.filter)
    checked.filter = q.filter
  }
  if (q.sort !== undefined) checked.sort = checkCockpitSort(q.sort)
  const projection = q.fields ?? fields
  if (projection !== undefined) checked.fields = checkCockpitFields(projection)
  if (q.limit !== undefined) {
    // 0 is refused: v1 reads it as "no limit" and v2 as "limit 0", so it has no common meaning.
    if (!Number.isSafeInteger(q.limit) || q.limit < 1) throw new CockpitError('INVALID_QUERY')
    checked.limit = q.limit
  }
  if (q.skip !== undefined) {
    if (!Number.isSafeInteger(q.skip) || q.skip < 0) throw new CockpitError('INVALID_QUERY')
    checked.skip = q.skip
  }
  const lang = q.locale ?? locale
  if (lang !== undefined) checked.locale = checkCockpitLocale(lang)
  return checked
}

/**
 * Checks a `{ field: 1 | -1 }` sort.
 * @param sort the sort object
 * @throws CockpitError `INVALID_QUERY`
 */
export function checkCockpitSort(sort: unknown): Record<string, 1 | -1> {
  if (!isCockpitPlainObject(sort)) throw new CockpitError('INVALID_QUERY')
  for (const value of Object.values(sort)) {
    if (value !== 1 && value !== -1) throw new CockpitError('INVALID_QUERY')
  }
  return sort as Record<string, 1 | -1>
}

/**
 * Checks a `{ field: 0 | 1 }` projection.
 * @param fields the projection
 * @throws CockpitError `INVALID_QUERY`
 */
export function checkCockpitFields(fields: unknown): Record<string, 0 | 1> {
  if (!isCockpitPlainObject(fields)) throw new CockpitError('INVALID_QUERY')
  for (const value of Object.values(fields)) {
    if (value !== 0 && value !== 1) throw new CockpitError('INVALID_QUERY')
  }
  return fields as Record<string, 0 | 1>
}

/**
 * Checks a locale name.
 * @param locale e.g. `de` or `default`
 * @throws CockpitError `INVALID_QUERY`
 */
export function checkCockpitLocale(locale: unknown): string {
  if (typeof locale !== 'string' || !COCKPIT_LOCALE_PATTERN.test(locale)) throw new CockpitError('INVALID_QUERY')
  return locale
}
