import { createObjectId, nowSeconds } from './ids'
import { JSON_TYPE, sendExact, sendJson } from './http'
import { isPlainObject } from './json'
import type { V1AclAction, V1Collection } from './models'
import { V1_COLLECTIONS, getV1Collection } from './models'
import { isPhpTruthy, phpIntval } from './params'
import type { Doc } from './query'
import { filterDocuments, runQuery } from './query'
import type { ApiRequest } from './request'
import { STORAGE_KEYS } from './seed-data'
import type { DocumentStore } from './store'
import type { V1Caller } from './v1-auth'
import { getV1CallerId, hasV1Access } from './v1-auth'
import { castV1Entry, findMissingRequiredField } from './v1-entry'
import { readV1ObjectParam } from './v1-params'

/** What every v1 handler needs. */
export interface V1Context {
  request: ApiRequest
  store: DocumentStore
  caller: V1Caller
}

// these bodies are literal strings in Cockpit's controller, hence the space after the colon
const COLLECTION_NOT_FOUND = '{"error": "Collection not found"}'
const ENTRY_NOT_FOUND = '{"error": "Entry not found."}'
const ACL_UNAUTHORIZED = '{"error": "Unauthorized"}'
const FILTER_MISSING = '{"error": "Please provide a collection name and filter"}'

/** Lime's answer to an action returning `false`: 404, empty, still `application/json`. */
const sendFalse = (context: V1Context) => sendExact(context.request.event, 404, '', JSON_TYPE)

async function requireCollection(context: V1Context, name: string | undefined, action: V1AclAction): Promise<V1Collection | undefined> {
  const collection = name === undefined ? undefined : getV1Collection(name)
  if (!collection) {
    await sendExact(context.request.event, 412, COLLECTION_NOT_FOUND, JSON_TYPE)
    return undefined
  }
  if (!hasV1Access(context.caller, collection, action)) {
    await sendExact(context.request.event, 401, ACL_UNAUTHORIZED, JSON_TYPE)
    return undefined
  }
  return collection
}

/**
 * `/api/collections/get/{name}` and `/api/collections/entries/{name}`:
 * `{fields, entries, total}`, or the bare list with `simple=1`.
 */
export async function listV1Entries(context: V1Context, name: string | undefined): Promise<void> {
  const { request, store } = context
  const collection = await requireCollection(context, name, 'entries_view')
  if (!collection) return
  const filter = readV1ObjectParam(request, 'filter')
  const sort = readV1ObjectParam(request, 'sort')
  const limit = isPhpTruthy(request.params.limit) ? phpIntval(request.params.limit) : 0
  const skip = isPhpTruthy(request.params.skip) ? phpIntval(request.params.skip) : 0
  const docs = await store.read(STORAGE_KEYS.v1Entries(collection.name))
  const entries = runQuery(docs, {
    filter,
    sort: sort && Object.fromEntries(Object.entries(sort).map(([key, direction]) => [key, phpIntval(direction)])),
    fields: readV1ObjectParam(request, 'fields'),
    limit,
    skip,
  })
  if (isPhpTruthy(request.params.simple)) return sendJson(request.event, 200, entries)
  const fields = Object.fromEntries(collection.fields.map(field => [field.name, { name: field.name, type: field.type, localize: field.localize, options: field.options }]))
  const total = !skip && !limit ? entries.length : filterDocuments(docs, filter ?? {}).length
  return sendJson(request.event, 200, { fields, entries, total })
}

/** `/api/collections/entry/{name}/{id}` or `/api/collections/entry/{name}?filter=…`: one entry or `404 Entry not found.` */
export async function getV1Entry(context: V1Context, name: string | undefined, id: string | undefined): Promise<void> {
  const { request, store } = context
  const collection = await requireCollection(context, name, 'entries_view')
  if (!collection) return
  const filter = id === undefined ? readV1ObjectParam(request, 'filter') : { _id: id }
  const [entry] = runQuery(await store.read(STORAGE_KEYS.v1Entries(collection.name)), { filter, fields: readV1ObjectParam(request, 'fields'), limit: 1 })
  return entry ? sendJson(request.event, 200, entry) : sendExact(request.event, 404, ENTRY_NOT_FOUND, JSON_TYPE)
}

/**
 * `/api/collections/save/{name}` with `{data: {…}}` or `{data: [{…}, …]}`: casts, checks `required`
 * on create, keeps unknown keys, overwrites `_by`; an update answers the partial document.
 */
export async function saveV1Entries(context: V1Context, name: string | undefined): Promise<void> {
  const { request, store, caller } = context
  const data = request.params.data
  if (name === undefined || !isPhpTruthy(data) || !(isPlainObject(data) || Array.isArray(data))) return sendFalse(context)
  const collection = getV1Collection(name)
  if (!collection) return sendExact(request.event, 412, COLLECTION_NOT_FOUND, JSON_TYPE)
  const single = isPlainObject(data)
  const entries = (single ? [data] : data).filter(isPlainObject).map(entry => castV1Entry(collection, entry))
  for (const entry of entries) {
    const isUpdate = entry._id !== undefined && entry._id !== null
    if (!hasV1Access(caller, collection, isUpdate ? 'entries_edit' : 'entries_create')) {
      return sendExact(request.event, 401, ACL_UNAUTHORIZED, JSON_TYPE)
    }
    const missing = isUpdate ? undefined : findMissingRequiredField(collection, entry)
    if (missing) return sendJson(request.event, 412, { error: `The ${missing} is required!` })
  }
  const byId = getV1CallerId(caller)
  const now = nowSeconds()
  const saved = await store.mutate(STORAGE_KEYS.v1Entries(collection.name), docs => entries.map((entry): Doc | false => {
    // assigning keeps a key's position when the client sent it, like PHP arrays
    entry._by = byId
    entry._modified = now
    if (entry._id === undefined || entry._id === null) {
      entry._created = now
      entry._id = createObjectId()
      docs.push({ ...entry })
      return entry
    }
    const existing = docs.find(doc => doc._id === entry._id)
    if (!existing) return false
    Object.assign(existing, entry)
    return entry
  }))
  if (single) return saved[0] ? sendJson(request.event, 200, saved[0]) : sendFalse(context)
  return sendJson(request.event, 200, saved)
}

/** `/api/collections/remove/{name}` with `{filter, count}`: `{"success":true,"count":N|false}`. */
export async function removeV1Entries(context: V1Context, name: string | undefined): Promise<void> {
  const { request, store } = context
  const raw = request.params.filter
  if (name === undefined || !isPhpTruthy(raw)) return sendExact(request.event, 417, FILTER_MISSING, JSON_TYPE)
  // a string is an _id; an object with an _id is narrowed to it
  let filter: Record<string, unknown> = typeof raw === 'string' ? { _id: raw } : readV1ObjectParam(request, 'filter') ?? {}
  if (Object.hasOwn(filter, '_id')) filter = { _id: filter._id }
  const collection = await requireCollection(context, name, 'entries_delete')
  if (!collection) return
  const wantsCount = isPhpTruthy(request.params.count)
  const removed = await store.mutate(STORAGE_KEYS.v1Entries(collection.name), (docs) => {
    const doomed = new Set(filterDocuments(docs, filter))
    const kept = docs.filter(doc => !doomed.has(doc))
    docs.splice(0, docs.length, ...kept)
    return doomed.size
  })
  return sendJson(request.event, 200, { success: true, count: wantsCount ? removed : false })
}

/** Collections the caller may view (all for keys and admins, by `entries_view` for other groups). */
function visibleCollections(caller: V1Caller): V1Collection[] {
  return Object.values(V1_COLLECTIONS).filter(collection => hasV1Access(caller, collection, 'entries_view'))
}

/** `/api/collections/listCollections`: `["posts"]`. */
export function listV1Collections(context: V1Context): Promise<void> {
  return sendJson(context.request.event, 200, visibleCollections(context.caller).map(collection => collection.name))
}

/** `/api/collections/collection/{name}`: the definition, or `412 Collection not found`. */
export function getV1CollectionDefinition(context: V1Context, name: string | undefined): Promise<void> {
  const collection = visibleCollections(context.caller).find(candidate => candidate.name === name)
  if (!collection) return sendExact(context.request.event, 412, COLLECTION_NOT_FOUND, JSON_TYPE)
  return sendJson(context.request.event, 200, collection)
}
