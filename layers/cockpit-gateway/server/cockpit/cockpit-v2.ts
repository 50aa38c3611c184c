import { CockpitError } from './cockpit-errors'
import type { CockpitHttp, CockpitHttpResponse } from './cockpit-http'
import {
  cockpitStatusError,
  parseCockpitJson,
  readCockpitErrorMessage,
  requireCockpitItem,
  requireCockpitItems,
  requireCockpitTotal,
} from './cockpit-response'
import type { CockpitAdapter, CockpitContentExtras, CockpitItem, CockpitList } from './cockpit-types'
import { authenticateCockpitV2User } from './cockpit-v2-login'
import {
  checkCockpitFields,
  checkCockpitListQuery,
  checkCockpitLocale,
  encodeCockpitId,
  encodeCockpitModel,
  isCockpitPlainObject,
  requireCockpitKey,
  stringifyCockpitJson,
  toCockpitWriteData,
} from './cockpit-validate'

/**
 * The `limit` sent when the caller asked for none. v2 answers `{data, meta:{total}}` only when both
 * `limit` and `skip` are present, and `limit=0` has no portable meaning, so "no limit" is spelled as
 * the largest 32-bit signed integer, which every storage engine behind Cockpit accepts.
 */
export const COCKPIT_V2_UNBOUNDED_LIMIT = 2 ** 31 - 1

const MODEL_NOT_FOUND = /^Model .* not found$/

/**
 * Maps a failed v2 answer to a typed error (contract §1.6). Only the status and the `error` string
 * are looked at; nothing of the body is kept.
 * @param response the upstream answer
 * @returns the error to throw; `NOT_FOUND` for the empty 404 of a missing or unpublished item
 */
export function classifyCockpitV2Failure(response: CockpitHttpResponse): CockpitError {
  const { status, text } = response
  const message = readCockpitErrorMessage(text)
  switch (status) {
    case 400:
      return new CockpitError('INVALID_QUERY', status)
    case 403:
      return new CockpitError('UPSTREAM_FORBIDDEN', status)
    case 404:
      if (message !== undefined && MODEL_NOT_FOUND.test(message)) return new CockpitError('MODEL_NOT_FOUND', status)
      if (text.trim() === '') return new CockpitError('NOT_FOUND', status)
      return new CockpitError('UPSTREAM_ERROR', status)
    case 412:
      if (message === 'Authentication failed') return new CockpitError('UPSTREAM_AUTH_FAILED', status)
      if (message === 'Item data is missing') return new CockpitError('INVALID_DATA', status)
      return new CockpitError('UPSTREAM_ERROR', status)
  }
  return cockpitStatusError(status)
}

/**
 * The Cockpit 2.x implementation: `/api/content/items/{model}` and `/api/content/item/{model}[/{id}]`,
 * the key only ever in the `api-key` header.
 *
 * v2 never shows unpublished items (`_state: 0`) through its API, so they can't be read, updated or
 * removed through this adapter either: they answer `null` / `NOT_FOUND`.
 * @param http the shared transport
 */
export function createCockpitV2Adapter(http: CockpitHttp): Omit<CockpitAdapter, keyof CockpitContentExtras> {
  const auth = (key: string) => ({ 'api-key': requireCockpitKey(key) })

  async function readItem(operation: string, model: string, id: string, key: string, fields?: Record<string, 0 | 1>, locale?: string): Promise<CockpitItem | null> {
    const secretHeaders = auth(key)
    const path = `/api/content/item/${encodeCockpitModel(model)}/${encodeCockpitId(id)}`
    const query = {
      fields: fields === undefined ? undefined : stringifyCockpitJson(checkCockpitFields(fields)),
      locale: locale === undefined ? undefined : checkCockpitLocale(locale),
    }
    const response = await http({ method: 'GET', path, query, secretHeaders, operation, model, retry: true })
    if (response.status === 200) return requireCockpitItem(parseCockpitJson(response.text), 200)
    const error = classifyCockpitV2Failure(response)
    if (error.code === 'NOT_FOUND') return null
    throw error
  }

  async function countItems(model: string, key: string, filter?: Record<string, unknown>): Promise<number> {
    const response = await http({
      method: 'GET',
      path: `/api/content/items/${encodeCockpitModel(model)}`,
      query: { filter: filter && stringifyCockpitJson(filter), fields: '{"_id":1}' },
      secretHeaders: auth(key),
      operation: 'list:count',
      model,
      retry: true,
    })
    if (response.status !== 200) throw classifyCockpitV2Failure(response)
    const body = parseCockpitJson(response.text)
    if (Array.isArray(body)) return requireCockpitItems(body, 200).length
    if (isCockpitPlainObject(body) && isCockpitPlainObject(body.meta)) return requireCockpitTotal(body.meta.total, 200)
    throw new CockpitError('UPSTREAM_ERROR', 200)
  }

  return {
    version: 2,

    async list(model, query, options) {
      const secretHeaders = auth(options?.key)
      const path = `/api/content/items/${encodeCockpitModel(model)}`
      const q = checkCockpitListQuery(query, options?.fields, options?.locale)
      const limit = q.limit ?? COCKPIT_V2_UNBOUNDED_LIMIT
      const response = await http({
        method: 'GET',
        path,
        query: {
          filter: q.filter && stringifyCockpitJson(q.filter),
          sort: q.sort && stringifyCockpitJson(q.sort),
          fields: q.fields && stringifyCockpitJson(q.fields),
          // Both, always: only then does v2 answer with the total.
          limit: String(limit),
          skip: String(q.skip),
          locale: q.locale,
        },
        secretHeaders,
        operation: 'list',
        model,
        retry: true,
      })
      if (response.status !== 200) throw classifyCockpitV2Failure(response)
      const body = parseCockpitJson(response.text)
      if (isCockpitPlainObject(body) && 'data' in body) {
        const items = requireCockpitItems(body.data, 200)
        if (!isCockpitPlainObject(body.meta)) throw new CockpitError('UPSTREAM_ERROR', 200)
        return { items, total: requireCockpitTotal(body.meta.total, 200) } satisfies CockpitList
      }
      // A plain array (a Cockpit that ignores skip, or a customised endpoint): the total is exact only
      // when this page is the partial last one; otherwise count with an `_id`-only projection.
      const items = requireCockpitItems(body, 200)
      const exact = (items.length > 0 && items.length < limit) || (items.length === 0 && q.skip === 0)
      return { items, total: exact ? q.skip + items.length : await countItems(model, options.key, q.filter) }
    },

    get(model, id, options) {
      return readItem('get', model, id, options?.key, options?.fields, options?.locale)
    },

    async create(model, data, options) {
      const secretHeaders = auth(options?.key)
      const path = `/api/content/item/${encodeCockpitModel(model)}`
      const response = await http({ method: 'POST', path, json: { data: toCockpitWriteData(data) }, secretHeaders, operation: 'create', model })
      if (response.status !== 200) throw classifyCockpitV2Failure(response)
      return requireCockpitItem(parseCockpitJson(response.text), 200)
    },

    async update(model, id, data, options) {
      const secretHeaders = auth(options?.key)
      const path = `/api/content/item/${encodeCockpitModel(model)}`
      encodeCockpitId(id)
      const fields = toCockpitWriteData(data)
      // v2 answers an unknown `_id` with 200 and stores nothing: only a prior read can tell.
      const existing = await readItem('update:check', model, id, options.key)
      if (!existing) throw new CockpitError('NOT_FOUND')
      const response = await http({ method: 'POST', path, json: { data: { ...fields, _id: id } }, secretHeaders, operation: 'update', model })
      if (response.status !== 200) throw classifyCockpitV2Failure(response)
      // The answer holds only the fields sent (+ `_modified`, `_mby`); read the stored item back.
      const echo = parseCockpitJson(response.text)
      if (!isCockpitPlainObject(echo)) throw new CockpitError('UPSTREAM_ERROR', 200)
      const stored = await readItem('update:read', model, id, options.key)
      // Gone from the API right after the update (e.g. it unpublished the item, or a concurrent
      // delete): the pre-update item merged with the echo is then what was stored.
      return stored ?? { ...existing, ...echo, _id: id }
    },

    async remove(model, id, options) {
      const secretHeaders = auth(options?.key)
      const path = `/api/content/item/${encodeCockpitModel(model)}/${encodeCockpitId(id)}`
      // v2 answers every delete with success, even for an unknown id: check first.
      const existing = await readItem('remove:check', model, id, options.key, { _id: 1 })
      if (!existing) throw new CockpitError('NOT_FOUND')
      const response = await http({ method: 'DELETE', path, secretHeaders, operation: 'remove', model })
      if (response.status !== 200) throw classifyCockpitV2Failure(response)
      const body = parseCockpitJson(response.text)
      if (!isCockpitPlainObject(body) || body.success !== true) throw new CockpitError('UPSTREAM_ERROR', 200)
    },

    authenticate(username, password) {
      return authenticateCockpitV2User(http, username, password)
    },

    async health() {
      try {
        const response = await http({ method: 'GET', path: '/api/system/healthcheck', operation: 'health', retry: true })
        const body = parseCockpitJson(response.text)
        return response.status === 200 && isCockpitPlainObject(body) && body.status === 'ok'
      }
      catch {
        return false
      }
    },
  }
}
