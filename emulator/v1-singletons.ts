import { JSON_TYPE, LIME_HTML, sendExact, sendJson } from './http'
import type { V1Singleton } from './models'
import { V1_SINGLETONS, getV1Singleton } from './models'
import type { Doc } from './query'
import { SEED_V1 } from './seed'
import type { V1Caller } from './v1-auth'
import type { V1Context } from './v1-collections'

/** The key-value store `singletons`: one `{name, value}` record per singleton. */
export const V1_SINGLETONS_KEY = 'v1:singletons'

/** The seeded value of `settings`, as the admin UI saves it (values, `_mby`, `_by`). */
export function buildV1SingletonDocs(): Doc[] {
  const { singleton, users } = SEED_V1
  return [{ name: singleton.name, value: { siteTitle: singleton.siteTitle, tagline: singleton.tagline, _mby: users.admin.id, _by: users.admin.id } }]
}

/** Singleton ACL: keys and admins pass; other accounts need `data` or `form` for their group. */
function canRead(caller: V1Caller, singleton: V1Singleton): boolean {
  if (caller.kind !== 'account' || caller.user.group === 'admin') return true
  const rights = singleton.acl[String(caller.user.group)]
  return rights?.data === true || rights?.form === true
}

const UNAUTHORIZED = '{"error": "Unauthorized"}'

/**
 * `/api/singletons/get/{name}[/{field}]`: the stored value (JSON), or one field as raw text
 * (`text/html`). Unknown singleton or field: 404, empty. `lang`, `populate`, `fields`… change nothing.
 */
export async function getV1SingletonValue(context: V1Context, name: string | undefined, field: string | undefined): Promise<void> {
  const { request, store, caller } = context
  const singleton = name === undefined ? undefined : getV1Singleton(name)
  if (!singleton) return sendExact(request.event, 404, '', LIME_HTML)
  if (!canRead(caller, singleton)) return sendExact(request.event, 401, UNAUTHORIZED, JSON_TYPE)
  const record = (await store.read(V1_SINGLETONS_KEY)).find(doc => doc.name === singleton.name)
  const value = (record?.value ?? null) as Doc | null
  if (field === undefined) return sendJson(request.event, 200, value)
  if (!value || !Object.hasOwn(value, field) || value[field] === null) return sendExact(request.event, 404, '', LIME_HTML)
  const raw = value[field]
  // PHP echoes scalars as text; arrays would print "Array", objects are JSON here (no such field in the seed)
  return sendExact(request.event, 200, typeof raw === 'object' ? JSON.stringify(raw) : String(raw), LIME_HTML)
}

/** `/api/singletons/listSingletons`: the names the caller may read. */
export function listV1Singletons(context: V1Context): Promise<void> {
  return sendJson(context.request.event, 200, Object.values(V1_SINGLETONS).filter(singleton => canRead(context.caller, singleton)).map(singleton => singleton.name))
}

/** `/api/singletons/singleton/{name}`: the definition, or 404 empty (`false`). */
export function getV1SingletonDefinition(context: V1Context, name: string | undefined): Promise<void> {
  const singleton = name === undefined ? undefined : getV1Singleton(name)
  if (!singleton || !canRead(context.caller, singleton)) return sendExact(context.request.event, 404, '', JSON_TYPE)
  return sendJson(context.request.event, 200, singleton)
}
