import { createObjectId, nowSeconds } from './ids'
import { sendJson } from './http'
import { isPlainObject, parseJson5 } from './json'
import type { V2Model } from './models'
import type { Params } from './params'
import type { Doc } from './query'
import { projectDocument } from './query'
import { SEED_V2 } from './seed'
import type { DocumentStore } from './store'
import type { V2ContentContext } from './v2-content'
import { isV2Allowed } from './v2-auth'

/** `content/singletons`: one document per singleton model, told apart by `_model`. */
export const V2_SINGLETONS_KEY = 'v2:content:singletons'

/** The seeded `settings` document of contract 4.1 (`_cby`/`_mby` = the admin). */
export function buildV2SingletonDocs(): Doc[] {
  const { singleton, users } = SEED_V2
  return [{
    siteTitle: singleton.siteTitle,
    tagline: singleton.tagline,
    _model: singleton.model,
    _state: 1,
    _modified: singleton.modified,
    _mby: users.admin.id,
    _created: singleton.created,
    _cby: users.admin.id,
    _id: singleton.id,
  }]
}

const can = (context: V2ContentContext, model: V2Model, permission: string) => isV2Allowed(context.caller.role, `content/${model.name}/${permission}`)

/** Every field `null`, then `_model` (what REST returns when nothing was ever saved). */
function defaultSingleton(model: V2Model): Doc {
  return { ...Object.fromEntries(model.fields.map(field => [field.name, null])), _model: model.name }
}

/** The stored singleton document, or the model's default item. `_state` is not applied to REST reads. */
export async function readV2Singleton(store: DocumentStore, model: V2Model): Promise<Doc> {
  const stored = (await store.read(V2_SINGLETONS_KEY)).find(doc => doc._model === model.name)
  return stored ?? defaultSingleton(model)
}

/** A projection with `_model` always put back at the end, as Cockpit does after projecting. */
export function projectV2Singleton(doc: Doc, fields: Record<string, unknown> | undefined): Doc {
  if (!fields) return doc
  const { _model: _dropped, ...projected } = projectDocument(doc, fields)
  return { ...projected, _model: doc._model }
}

/**
 * `GET /api/content/item/{singleton}[/{any id}]`: the document whatever the id or `filter`;
 * `fields` projects (invalid JSON → 400), `locale` changes nothing.
 */
export async function getV2Singleton(context: V2ContentContext, model: V2Model): Promise<void> {
  const { request, store } = context
  if (!can(context, model, 'read')) return sendJson(request.event, 403, { error: 'Permission denied' })
  let fields: Record<string, unknown> | undefined
  if (request.params.fields) {
    const result = typeof request.params.fields === 'string' ? parseJson5(request.params.fields) : { ok: false as const }
    if (!result.ok) return sendJson(request.event, 400, { error: '<fields> is not valid json' })
    fields = isPlainObject(result.value) ? result.value : undefined
  }
  return sendJson(request.event, 200, projectV2Singleton(await readV2Singleton(store, model), fields))
}

/** `GET /api/content/items/{singleton}`: the list route knows no singletons, `200 []`. */
export function listV2Singleton(context: V2ContentContext, model: V2Model): Promise<void> {
  if (!can(context, model, 'read')) return sendJson(context.request.event, 403, { error: 'Permission denied' })
  return sendJson(context.request.event, 200, [])
}

/** `DELETE` and `aggregate` on a singleton: `412 {"error":"<METHOD> method not allowed for <name>"}`. */
export function refuseV2SingletonMethod(context: V2ContentContext, model: V2Model, method: 'DELETE' | 'Aggregate'): Promise<void> {
  return sendJson(context.request.event, 412, { error: `${method} method not allowed for <${model.name}>` })
}

/**
 * `POST /api/content/item/{singleton}` with `{data}`. Without `_id` (`create`): the data over the
 * defaults (every field `null`, `_state:1`) over the stored document, so unsent fields are reset.
 * With `_id` (`update`, `publish` for `_state`): a merge, answered in full; a wrong `_id` is echoed
 * under that `_id` and nothing is stored.
 */
export async function saveV2Singleton(context: V2ContentContext, model: V2Model): Promise<void> {
  const { request, store, caller } = context
  const data = request.params.data
  if (!isPlainObject(data) || Object.keys(data).length === 0) return sendJson(request.event, 412, { error: 'Item data is missing' })
  const isUpdate = data._id !== undefined && data._id !== null
  if (!can(context, model, isUpdate ? 'update' : 'create')) return sendJson(request.event, 403, { error: 'Permission denied' })
  const fieldNames = model.fields.map(field => field.name)
  const pick = (allowState: boolean): Params => Object.fromEntries(Object.entries(data).filter(([key]) => fieldNames.includes(key) || (allowState && key === '_state')))
  const now = nowSeconds()
  const saved = await store.mutate(V2_SINGLETONS_KEY, (docs) => {
    const index = docs.findIndex(doc => doc._model === model.name)
    const stored: Doc | undefined = index >= 0 ? docs[index] : undefined
    if (!isUpdate) {
      const defaults: Doc = { ...Object.fromEntries(fieldNames.map(name => [name, null])), _model: model.name, _state: 1 }
      const next: Doc = {
        ...(stored ?? {}),
        ...defaults,
        ...pick(true),
        _model: model.name,
        _modified: now,
        _mby: caller.userId,
        _created: stored?._created ?? now,
        _cby: stored ? stored._cby : caller.userId,
        _id: stored?._id ?? createObjectId(),
      }
      if (index >= 0) docs[index] = next
      else docs.push(next)
      return next
    }
    const merged: Doc = { ...(stored ?? defaultSingleton(model)), ...pick(can(context, model, 'publish')), _modified: now, _mby: caller.userId, _id: data._id }
    if (stored && stored._id === data._id) docs[index] = merged
    return merged
  })
  return sendJson(request.event, 200, saved)
}
