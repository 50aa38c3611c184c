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
import type { CockpitAdapter, CockpitContentExtras, CockpitItem, CockpitUser } from './cockpit-types'
import {
  checkCockpitFields,
  checkCockpitListQuery,
  checkCockpitLocale,
  encodeCockpitId,
  encodeCockpitModel,
  isCockpitPlainObject,
  requireCockpitKey,
  toCockpitWriteData,
} from './cockpit-validate'

// v1 answers 401 for a rejected key and for an accepted key that lacks the right alike. Only the
// collections controller (the ACL check of an account key) writes the body with a space after the
// colon; the API's own key check writes it without one (contract §2.1, §2.3).
const ACL_DENIED_BODY = '{"error": "Unauthorized"}'
const REQUIRED_FIELD = /^The .+ is required!$/

/**
 * Maps a failed v1 answer to a typed error (contract §2.1, §2.3). Only the status and the `error`
 * string are looked at; nothing of the body is kept.
 *
 * 401 becomes `UPSTREAM_FORBIDDEN` when the body shows a collection ACL denial (an account key lacking
 * the right), else `UPSTREAM_AUTH_FAILED`; writes refine the latter with a read probe, see
 * {@link createCockpitV1Adapter}.
 * @param response the upstream answer
 */
export function classifyCockpitV1Failure(response: CockpitHttpResponse): CockpitError {
  const { status, text } = response
  switch (status) {
    case 401:
      return new CockpitError(text.trim() === ACL_DENIED_BODY ? 'UPSTREAM_FORBIDDEN' : 'UPSTREAM_AUTH_FAILED', status)
    case 404:
      return new CockpitError('NOT_FOUND', status)
    case 412: {
      const message = readCockpitErrorMessage(text)
      if (message === 'Collection not found') return new CockpitError('MODEL_NOT_FOUND', status)
      if (message !== undefined && REQUIRED_FIELD.test(message)) return new CockpitError('INVALID_DATA', status)
      return new CockpitError('UPSTREAM_ERROR', status)
    }
  }
  return cockpitStatusError(status)
}

/**
 * The Cockpit 0.12 (legacy) implementation: `/api/collections/{get,entry,save,remove}/{name}`, the
 * key only ever in the `Cockpit-Token` header.
 *
 * A 401 on a write is ambiguous on v1: a wrong key, or a valid key without the right (a special key
 * whose path rules cover only reads answers exactly like a wrong key). The adapter then makes one
 * read probe on the same collection with the same key: if the key can read, the write was
 * `UPSTREAM_FORBIDDEN`; otherwise `UPSTREAM_AUTH_FAILED`.
 * @param http the shared transport
 * @param authKey server-held key `authenticate` calls `/api/cockpit/authUser` with (master or account key)
 */
export function createCockpitV1Adapter(http: CockpitHttp, authKey?: string): Omit<CockpitAdapter, keyof CockpitContentExtras> {
  const auth = (key: string) => ({ 'cockpit-token': requireCockpitKey(key) })

  async function readEntry(operation: string, model: string, id: string, key: string, fields?: Record<string, 0 | 1>, locale?: string): Promise<CockpitItem | null> {
    const secretHeaders = auth(key)
    const path = `/api/collections/entry/${encodeCockpitModel(model)}/${encodeCockpitId(id)}`
    const query: Record<string, string> = {}
    // v1 reads nested parameters from a query string in bracket syntax: fields[title]=1.
    for (const [field, value] of Object.entries(fields === undefined ? {} : checkCockpitFields(fields))) {
      query[`fields[${field}]`] = String(value)
    }
    if (locale !== undefined) query.lang = checkCockpitLocale(locale)
    const response = await http({ method: 'GET', path, query, secretHeaders, operation, model, retry: true })
    if (response.status === 200) return requireCockpitItem(parseCockpitJson(response.text), 200)
    // 404 `{"error": "Entry not found."}`
    if (response.status === 404) return null
    throw classifyCockpitV1Failure(response)
  }

  async function classifyWriteFailure(response: CockpitHttpResponse, operation: string, model: string, key: string): Promise<CockpitError> {
    const error = classifyCockpitV1Failure(response)
    if (error.code !== 'UPSTREAM_AUTH_FAILED') return error
    try {
      const probe = await http({
        method: 'POST',
        path: `/api/collections/get/${encodeCockpitModel(model)}`,
        json: { limit: 1, fields: { _id: 1 } },
        secretHeaders: auth(key),
        operation: `${operation}:probe`,
        model,
      })
      if (probe.status === 200) return new CockpitError('UPSTREAM_FORBIDDEN', response.status)
    }
    catch {
      // The probe only refines the answer; if it can't run, the first classification stands.
    }
    return error
  }

  async function save(operation: 'create' | 'update', model: string, data: Record<string, unknown>, key: string): Promise<CockpitHttpResponse> {
    return http({
      method: 'POST',
      path: `/api/collections/save/${encodeCockpitModel(model)}`,
      json: { data },
      secretHeaders: auth(key),
      operation,
      model,
    })
  }

  return {
    version: 1,

    async list(model, query, options) {
      const secretHeaders = auth(options?.key)
      const path = `/api/collections/get/${encodeCockpitModel(model)}`
      const q = checkCockpitListQuery(query, options?.fields, options?.locale)
      const json: Record<string, unknown> = {}
      if (q.filter) json.filter = q.filter
      if (q.sort) json.sort = q.sort
      if (q.fields) json.fields = q.fields
      if (q.limit !== undefined) json.limit = q.limit
      if (q.skip) json.skip = q.skip
      if (q.locale) json.lang = q.locale
      const response = await http({ method: 'POST', path, json, secretHeaders, operation: 'list', model, retry: true })
      if (response.status !== 200) throw classifyCockpitV1Failure(response)
      const body = parseCockpitJson(response.text)
      if (!isCockpitPlainObject(body)) throw new CockpitError('UPSTREAM_ERROR', 200)
      return { items: requireCockpitItems(body.entries, 200), total: requireCockpitTotal(body.total, 200) }
    },

    get(model, id, options) {
      return readEntry('get', model, id, options?.key, options?.fields, options?.locale)
    },

    async create(model, data, options) {
      const key = requireCockpitKey(options?.key)
      encodeCockpitModel(model)
      const response = await save('create', model, toCockpitWriteData(data), key)
      // 404 on a create means Cockpit found `data` empty (`{}` is falsy in PHP).
      if (response.status === 404) throw new CockpitError('INVALID_DATA', 404)
      if (response.status !== 200) throw await classifyWriteFailure(response, 'create', model, key)
      return requireCockpitItem(parseCockpitJson(response.text), 200)
    },

    async update(model, id, data, options) {
      const key = requireCockpitKey(options?.key)
      encodeCockpitModel(model)
      encodeCockpitId(id)
      const response = await save('update', model, { ...toCockpitWriteData(data), _id: id }, key)
      // v1 answers an unknown `_id` with an empty 404, and stores nothing.
      if (response.status !== 200) throw await classifyWriteFailure(response, 'update', model, key)
      if (!isCockpitPlainObject(parseCockpitJson(response.text))) throw new CockpitError('UPSTREAM_ERROR', 200)
      // The answer is the partial document that was sent; read the stored entry back.
      const stored = await readEntry('update:read', model, id, key)
      if (!stored) throw new CockpitError('NOT_FOUND')
      return stored
    },

    async remove(model, id, options) {
      const key = requireCockpitKey(options?.key)
      const path = `/api/collections/remove/${encodeCockpitModel(model)}`
      encodeCockpitId(id)
      const response = await http({
        method: 'POST',
        path,
        json: { filter: { _id: id }, count: true },
        secretHeaders: auth(key),
        operation: 'remove',
        model,
      })
      if (response.status !== 200) throw await classifyWriteFailure(response, 'remove', model, key)
      const body = parseCockpitJson(response.text)
      if (!isCockpitPlainObject(body) || body.success !== true) throw new CockpitError('UPSTREAM_ERROR', 200)
      if (requireCockpitTotal(body.count, 200) === 0) throw new CockpitError('NOT_FOUND')
    },

    async authenticate(username, password) {
      const secretHeaders = auth(authKey ?? '')
      if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) return null
      const response = await http({
        method: 'POST',
        path: '/api/cockpit/authUser',
        json: { user: username, password },
        secretHeaders,
        operation: 'authenticate',
      })
      if (response.status === 200) return toCockpitV1User(parseCockpitJson(response.text), 200)
      if (response.status === 401) {
        // Wrong password, unknown or inactive user; anything else on 401 is the authKey being refused.
        if (readCockpitErrorMessage(response.text) === 'Authentication failed') return null
        throw new CockpitError('UPSTREAM_AUTH_FAILED', 401)
      }
      if (response.status === 412) return null // "Missing user or password"
      throw cockpitStatusError(response.status)
    },

    async health() {
      // v1 has no health endpoint. Its API checks the token before routing, so a keyless call
      // answering Cockpit's own JSON 401 (or 200 for a public setup) proves the API is up, without a key.
      try {
        const response = await http({ method: 'GET', path: '/api/collections/listCollections', operation: 'health', retry: true })
        if (response.status !== 200 && response.status !== 401) return false
        return parseCockpitJson(response.text) !== undefined
      }
      catch {
        return false
      }
    },
  }
}

/**
 * Maps an `authUser` answer to a {@link CockpitUser}: `group` becomes `role`, and only known fields are
 * picked, so the account's `api_key` (which v1 returns) is dropped here and goes nowhere.
 * @param body the parsed answer
 * @param status the upstream status, kept on errors
 */
export function toCockpitV1User(body: unknown, status?: number): CockpitUser {
  if (!isCockpitPlainObject(body)) throw new CockpitError('UPSTREAM_ERROR', status)
  delete body.api_key
  if (typeof body._id !== 'string' || typeof body.user !== 'string' || typeof body.group !== 'string') {
    throw new CockpitError('UPSTREAM_ERROR', status)
  }
  return {
    id: body._id,
    username: body.user,
    name: typeof body.name === 'string' && body.name ? body.name : body.user,
    ...(typeof body.email === 'string' && body.email ? { email: body.email } : {}),
    role: body.group,
  }
}
