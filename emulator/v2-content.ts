import { setResponseHeader } from 'h3'
import { createObjectId, nowSeconds } from './ids'
import { isPlainObject, parseJson5 } from './json'
import type { Json5Result } from './json'
import { sendEmptyNotFound, sendJson } from './http'
import { getV2Model } from './models'
import type { V2Model } from './models'
import type { Params } from './params'
import { isPhpTruthy, phpIntval } from './params'
import type { Doc, QueryOptions } from './query'
import { filterDocuments, runPipeline, runQuery } from './query'
import type { ApiRequest } from './request'
import { STORAGE_KEYS } from './seed-data'
import type { DocumentStore } from './store'
import type { V2Caller } from './v2-auth'
import { isV2Allowed } from './v2-auth'
import { projectV2Singleton, readV2Singleton } from './v2-singletons'

/** What every content handler needs. */
export interface V2ContentContext {
  request: ApiRequest
  store: DocumentStore
  caller: V2Caller
}

type Permission = 'read' | 'create' | 'update' | 'publish' | 'delete'

const can = (caller: V2Caller, model: string, permission: Permission) => isV2Allowed(caller.role, `content/${model}/${permission}`)

const sendModelNotFound = (request: ApiRequest, name: string) => sendJson(request.event, 404, { error: `Model <${name}> not found` })
const sendDenied = (request: ApiRequest) => sendJson(request.event, 403, { error: 'Permission denied' })
const sendInvalidJson = (request: ApiRequest, param: string) => sendJson(request.event, 400, { error: `<${param}> is not valid json` })

/** Cockpit reads these with `param('x:string')`: a bracket-syntax array becomes "Array", which is no JSON. */
function decodeJsonParam(value: unknown): Json5Result {
  return typeof value === 'string' ? parseJson5(value) : { ok: false }
}

/** Looks the model up and checks the permission; sends 404/403 and returns `undefined` on failure. */
async function requireModel(context: V2ContentContext, name: string, permission: Permission): Promise<V2Model | undefined> {
  const model = getV2Model(name)
  if (!model) {
    await sendModelNotFound(context.request, name)
    return undefined
  }
  if (!can(context.caller, name, permission)) {
    await sendDenied(context.request)
    return undefined
  }
  return model
}

/** Reads only published items: Cockpit overwrites any `_state` the client asked for. */
function publishedFilter(filter: unknown): Record<string, unknown> {
  return { ...(isPlainObject(filter) ? filter : {}), _state: 1 }
}

/**
 * `GET /api/content/items/{model}`: list with `filter`, `sort`, `fields`, `limit`, `skip`;
 * `{data, meta: {total}}` when both `limit` and `skip` are given.
 */
export async function listV2Items(context: V2ContentContext, name: string): Promise<void> {
  const { request, store } = context
  if (!(await requireModel(context, name, 'read'))) return
  const decoded: Record<string, unknown> = {}
  for (const param of ['filter', 'fields', 'sort'] as const) {
    if (!Object.hasOwn(request.params, param)) continue
    const result = decodeJsonParam(request.params[param])
    if (!result.ok) return sendInvalidJson(request, param)
    decoded[param] = result.value
  }
  const hasLimit = Object.hasOwn(request.params, 'limit')
  const hasSkip = Object.hasOwn(request.params, 'skip')
  const options: QueryOptions = {
    filter: publishedFilter(decoded.filter),
    sort: isPlainObject(decoded.sort) ? decoded.sort : undefined,
    fields: isPlainObject(decoded.fields) ? decoded.fields : undefined,
    limit: hasLimit ? phpIntval(request.params.limit) : undefined,
    skip: hasSkip ? phpIntval(request.params.skip) : undefined,
  }
  const docs = await store.read(STORAGE_KEYS.v2Items(name))
  const items = runQuery(docs, options)
  // `rspc` opts into Cockpit's response cache, whose visible trace is this header
  if (isPhpTruthy(request.params.rspc)) setResponseHeader(request.event, 'last-modified', new Date().toUTCString())
  if (hasLimit && hasSkip) {
    return sendJson(request.event, 200, { data: items, meta: { total: filterDocuments(docs, options.filter!).length } })
  }
  return sendJson(request.event, 200, items)
}

/**
 * `GET /api/content/item/{model}/{id}` and `GET /api/content/item/{model}?filter=…`: one published
 * item, or 404 with an empty body.
 */
export async function getV2Item(context: V2ContentContext, name: string, id?: string): Promise<void> {
  const { request, store } = context
  if (!(await requireModel(context, name, 'read'))) return
  let filter: Record<string, unknown> = { _id: id }
  if (id === undefined) {
    filter = {}
    // here Cockpit tests the string itself, so `?filter=` means no filter rather than bad JSON
    if (request.params.filter) {
      const result = decodeJsonParam(request.params.filter)
      if (!result.ok) return sendInvalidJson(request, 'filter')
      filter = isPlainObject(result.value) ? result.value : {}
    }
  }
  let fields: Record<string, unknown> | undefined
  if (request.params.fields) {
    const result = decodeJsonParam(request.params.fields)
    if (!result.ok) return sendInvalidJson(request, 'fields')
    fields = isPlainObject(result.value) ? result.value : undefined
  }
  const [item] = runQuery(await store.read(STORAGE_KEYS.v2Items(name)), { filter: publishedFilter(filter), fields, limit: 1 })
  return item ? sendJson(request.event, 200, item) : sendEmptyNotFound(request.event)
}

/**
 * `POST /api/content/item/{model}` with `{data}`: creates (no `_id`) or updates (`_id`), with
 * Cockpit's quirks (defaults merged, unknown keys dropped, partial update echo, silent no-op on a
 * missing `_id`, `_state` dropped without `publish`).
 */
export async function saveV2Item(context: V2ContentContext, name: string): Promise<void> {
  const { request, caller } = context
  const model = getV2Model(name)
  if (!model) return sendModelNotFound(request, name)
  const data = request.params.data
  if (!isPlainObject(data) || Object.keys(data).length === 0) {
    return sendJson(request.event, 412, { error: 'Item data is missing' })
  }
  const isUpdate = data._id !== undefined && data._id !== null
  if (!can(caller, name, isUpdate ? 'update' : 'create')) return sendDenied(request)
  const saved = isUpdate ? await updateItem(context, model, data) : await createItem(context, model, data)
  return sendJson(request.event, 200, saved)
}

/** Field defaults (all `null`: the seed model sets none) plus `_state: 1`, the API's default. */
function defaultItem(model: V2Model): Doc {
  return { ...Object.fromEntries(model.fields.map(field => [field.name, null])), _state: 1 }
}

async function createItem(context: V2ContentContext, model: V2Model, data: Params): Promise<Doc> {
  const defaults = defaultItem(model)
  const item: Doc = {}
  for (const key of Object.keys(defaults)) item[key] = Object.hasOwn(data, key) ? data[key] : defaults[key]
  const now = nowSeconds()
  Object.assign(item, { _modified: now, _mby: context.caller.userId, _created: now, _cby: context.caller.userId, _id: createObjectId() })
  await context.store.mutate(STORAGE_KEYS.v2Items(model.name), (docs) => {
    docs.push(item)
  })
  return item
}

/**
 * What an update writes and echoes: `_id` and the sent keys that are fields (plus `_state` when the
 * caller may publish), in the order sent, then `_modified` and `_mby`.
 * @param canPublish whether the caller holds `content/<model>/publish`
 */
export function pickV2UpdateChanges(model: V2Model, data: Params, canPublish: boolean, userId: string | null, now: number): Doc {
  const allowed = new Set(Object.keys(defaultItem(model)))
  if (!canPublish) allowed.delete('_state')
  const changes: Doc = {}
  for (const [key, value] of Object.entries(data)) {
    if (key === '_id' || allowed.has(key)) changes[key] = value
  }
  return Object.assign(changes, { _modified: now, _mby: userId })
}

async function updateItem(context: V2ContentContext, model: V2Model, data: Params): Promise<Doc> {
  const canPublish = can(context.caller, model.name, 'publish')
  const changes = pickV2UpdateChanges(model, data, canPublish, context.caller.userId, nowSeconds())
  await context.store.mutate(STORAGE_KEYS.v2Items(model.name), (docs) => {
    // an unknown _id is echoed with 200 but nothing is stored
    const existing = docs.find(doc => doc._id === changes._id)
    if (existing) Object.assign(existing, changes, { _id: existing._id })
  })
  return changes
}

/** `DELETE /api/content/item/{model}/{id}`: always `{"success":true}`, whether the id exists or not. */
export async function deleteV2Item(context: V2ContentContext, name: string, id: string): Promise<void> {
  if (!(await requireModel(context, name, 'delete'))) return
  await context.store.mutate(STORAGE_KEYS.v2Items(name), (docs) => {
    const index = docs.findIndex(doc => doc._id === id)
    if (index >= 0) docs.splice(index, 1)
  })
  return sendJson(context.request.event, 200, { success: true })
}

/**
 * `GET /api/content/items?models={posts:{limit:1}}`: several lists at once. Unknown and forbidden
 * models are left out silently.
 */
export async function listV2ItemsOfModels(context: V2ContentContext): Promise<void> {
  const { request, store, caller } = context
  let models: unknown = request.params.models
  if (!models) return sendJson(request.event, 412, { error: '<models> parameter is missing' })
  if (typeof models === 'string') {
    const result = parseJson5(models)
    if (!result.ok) return sendInvalidJson(request, 'models')
    models = result.value
  }
  const requested: Array<[string, unknown]> = Array.isArray(models)
    ? models.filter(name => typeof name === 'string').map(name => [name as string, {}])
    : isPlainObject(models) ? Object.entries(models) : []
  const result: Record<string, Doc[] | Doc> = {}
  for (const [name, rawOptions] of requested) {
    const model = getV2Model(name)
    if (!model || !can(caller, name, 'read')) continue
    const options = isPlainObject(rawOptions) ? rawOptions : {}
    if (model.type === 'singleton') {
      // a singleton comes back as its document, not a list
      result[name] = projectV2Singleton(await readV2Singleton(store, model), isPlainObject(options.fields) ? options.fields : undefined)
      continue
    }
    result[name] = runQuery(await store.read(STORAGE_KEYS.v2Items(name)), {
      filter: publishedFilter(options.filter),
      sort: isPlainObject(options.sort) ? options.sort : undefined,
      fields: isPlainObject(options.fields) ? options.fields : undefined,
      limit: options.limit === undefined ? undefined : phpIntval(options.limit),
      skip: options.skip === undefined ? undefined : phpIntval(options.skip),
    })
  }
  // PHP encodes an empty associative array as a list
  return sendJson(request.event, 200, Object.keys(result).length > 0 ? result : [])
}

/** `GET /api/content/aggregate/{model}?pipeline=[…]`, with `{$match:{_state:1}}` prepended. */
export async function aggregateV2Items(context: V2ContentContext, name: string): Promise<void> {
  const { request, store } = context
  if (!(await requireModel(context, name, 'read'))) return
  const raw = request.params.pipeline
  if (!raw) return sendJson(request.event, 412, { error: '<pipeline> parameter is missing' })
  const result = decodeJsonParam(raw)
  if (!result.ok || !Array.isArray(result.value)) return sendInvalidJson(request, 'pipeline')
  const docs = await store.read(STORAGE_KEYS.v2Items(name))
  return sendJson(request.event, 200, runPipeline(docs, [{ $match: { _state: 1 } }, ...result.value]))
}

/** `GET /api/content/tree/{model}`: only tree models; `posts` is a collection → `400 Permission denied` (sic). */
export async function getV2Tree(context: V2ContentContext, name: string): Promise<void> {
  const model = await requireModel(context, name, 'read')
  if (!model) return
  if (model.type !== 'tree') return sendJson(context.request.event, 400, { error: 'Permission denied' })
  return sendJson(context.request.event, 200, runQuery(await context.store.read(STORAGE_KEYS.v2Items(name)), { filter: { _state: 1 } }))
}
