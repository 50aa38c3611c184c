import { createError, getQuery, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import { z } from 'zod'
import { LRUCache } from 'lru-cache'
import type { User } from '#auth-utils'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import { withCockpitErrors } from '../cockpit/cockpit-errors'
import type { CockpitItem, CockpitListQuery } from '../cockpit/cockpit-types'
import { getCachedCockpitRead, invalidateCockpitModelCache } from '../cache/cockpit-cache'
import { buildCockpitListQuery, itemQuerySchema, parseCockpitFields } from './cockpit-list-query'
import { getCockpitItemOwner, removeCockpitItemOwner, setCockpitItemOwner } from './cockpit-owners'
import { getCockpitWriteKey, useCockpitClient } from '../cockpit/cockpit'
import { getGatewayClientIp } from '../client-address/client-ip'
import { toGatewayIssues } from '../guards/gateway-body'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayConfig } from '../config/gateway-config'
import { requireRateLimit } from '../rate-limit/gateway-rate-limit'
import { getGatewaySession, requireGatewaySession } from '../session/gateway-session'
import { toPublicCockpitItem } from '../content/public-fields'

/**
 * Write actions of a model policy.
 * @public
 */
export type CockpitWriteAction = 'create' | 'update' | 'delete'

function forbidden(code: 'FORBIDDEN' | 'NOT_OWNER'): never {
  throw createError({ statusCode: 403, statusMessage: code === 'NOT_OWNER' ? 'Not the owner' : 'Forbidden', data: { code } })
}

function notFound(): never {
  throw createError({ statusCode: 404, statusMessage: 'Item not found', data: { code: 'NOT_FOUND' } })
}

/** Whether a user may write the model at all (any role-based write); such users read past `publicFilter`, uncached. */
function isWriter(model: CockpitModel, user: User | undefined): boolean {
  return !!user && (model.create.includes(user.role) || model.update.includes(user.role))
}

async function requireReadAccess(event: H3Event, model: CockpitModel): Promise<User | undefined> {
  if (model.read === 'public') return (await getGatewaySession(event))?.user
  const { user } = await requireGatewaySession(event)
  if (model.read !== 'authenticated' && !model.read.includes(user.role)) forbidden('FORBIDDEN')
  return user
}

async function countRead(event: H3Event, user: User | undefined): Promise<void> {
  await requireRateLimit(event, 'read', user ? `user:${user.id}` : getGatewayClientIp(event, useGatewayConfig(event).trustProxy))
}

function matchesPublicFilter(model: CockpitModel, item: CockpitItem): boolean {
  return Object.entries(model.publicFilter ?? {}).every(([field, value]) => item[field] === value)
}

/** The raw query string of a request (what follows `?`), the memo key of its validated form. */
function rawQuery(event: H3Event): string {
  const at = event.path.indexOf('?')
  return at === -1 ? '' : event.path.slice(at + 1)
}

/** A list query validated once per distinct query string: the private form, and the shared cached one. */
interface ValidatedListQuery {
  query: CockpitListQuery
  publicQuery: CockpitListQuery
  cacheKey: string
}

// The same query string always validates to the same result under one config, so the schema, the filter
// allow-list and the key serialisation run once per distinct query, not once per request.
const listQueries = new LRUCache<string, ValidatedListQuery>({ max: 1000 })
const itemQueries = new LRUCache<string, { fields?: Record<string, 0 | 1>, locale?: string, cacheKey: string }>({ max: 1000 })

function validateListQuery(event: H3Event, model: CockpitModel, limits: GatewayConfig['limits']): ValidatedListQuery {
  const memoKey = `${model.name}?${rawQuery(event)}`
  let validated = listQueries.get(memoKey)
  if (!validated) {
    const query = buildCockpitListQuery(model, getQuery(event), limits)
    const publicQuery = { ...query }
    if (model.publicFilter) publicQuery.filter = query.filter ? { $and: [model.publicFilter, query.filter] } : { ...model.publicFilter }
    validated = { query, publicQuery, cacheKey: `list:${JSON.stringify(publicQuery)}` }
    listQueries.set(memoKey, validated)
  }
  return validated
}

function validateItemQuery(event: H3Event, model: CockpitModel) {
  const memoKey = `${model.name}?${rawQuery(event)}`
  let validated = itemQueries.get(memoKey)
  if (!validated) {
    const parsed = itemQuerySchema.safeParse(getQuery(event))
    if (!parsed.success) throw createError({ statusCode: 400, statusMessage: 'Invalid query', data: { code: 'INVALID_QUERY', issues: toGatewayIssues(parsed.error) } })
    validated = { fields: parseCockpitFields(model, parsed.data.fields), locale: parsed.data.locale, cacheKey: JSON.stringify(parsed.data) }
    itemQueries.set(memoKey, validated)
  }
  return validated
}

/** The body of a JSON answer the route sends as it is (a cached hit is sent as stored). */
function asJsonBody(event: H3Event, body: string): string {
  setResponseHeader(event, 'content-type', 'application/json')
  return body
}

/**
 * `GET items/:model`: checks read access, validates the query, and resolves the JSON body of
 * `{ items, total }`. Reads that don't depend on the session (public model, reader who can't write)
 * share one cached entry, sent as stored, and always carry `publicFilter`; a writer's reads bypass the cache.
 * @param event the request
 * @param model the declared model
 */
export async function serveCockpitItemList(event: H3Event, model: CockpitModel): Promise<string> {
  const user = await requireReadAccess(event, model)
  const config = useGatewayConfig(event)
  const { query, publicQuery, cacheKey } = validateListQuery(event, model, config.limits)
  await countRead(event, user)
  const read = async (listQuery: CockpitListQuery) => {
    const list = await withCockpitErrors(useCockpitClient(event).list(model.name, listQuery, { key: config.cockpit.readKey }))
    return JSON.stringify({ items: list.items.map(item => toPublicCockpitItem(model, item)), total: list.total })
  }
  if (model.read !== 'public' || isWriter(model, user)) {
    setResponseHeader(event, 'cache-control', 'private, no-store')
    return asJsonBody(event, await read(query))
  }
  const { body, status } = await getCachedCockpitRead(event, model.name, cacheKey, () => read(publicQuery))
  setResponseHeader(event, 'x-cockpit-gateway-cache', status)
  return asJsonBody(event, body)
}

/**
 * `GET items/:model/:id`: like {@link serveCockpitItemList} for one item; 404 `NOT_FOUND` when missing or
 * outside `publicFilter` for this reader.
 * @param event the request
 * @param model the declared model
 * @param id item id
 */
export async function serveCockpitItem(event: H3Event, model: CockpitModel, id: string): Promise<string> {
  const user = await requireReadAccess(event, model)
  const config = useGatewayConfig(event)
  const { fields, locale, cacheKey } = validateItemQuery(event, model)
  // `publicFilter` is checked on the answer, so its fields are read even when a projection leaves them out.
  const filterFields = Object.fromEntries(Object.keys(model.publicFilter ?? {}).map(field => [field, 1 as const]))
  const options = { key: config.cockpit.readKey, fields: fields && { ...fields, ...filterFields }, locale }
  await countRead(event, user)
  const project = (item: CockpitItem) => fields ? Object.fromEntries(Object.entries(item).filter(([field]) => field === '_id' || Object.hasOwn(fields, field))) as CockpitItem : item
  const read = async (publicOnly: boolean) => {
    const item = await withCockpitErrors(useCockpitClient(event).get(model.name, id, options))
    if (!item) return 'null'
    const visible = toPublicCockpitItem(model, item)
    return publicOnly && !matchesPublicFilter(model, visible) ? 'null' : JSON.stringify(project(visible))
  }
  let body: string
  if (model.read !== 'public' || isWriter(model, user)) {
    setResponseHeader(event, 'cache-control', 'private, no-store')
    body = await read(false)
  }
  else {
    const cached = await getCachedCockpitRead(event, model.name, `item:${id}:${cacheKey}`, () => read(true))
    setResponseHeader(event, 'x-cockpit-gateway-cache', cached.status)
    body = cached.body
  }
  if (body === 'null') notFound()
  return asJsonBody(event, body)
}

// Built once per model and variant, not per request: zod compiles a schema on its first parse.
const writeSchemas = new WeakMap<CockpitModel, Map<string, z.ZodObject>>()

/** The one write schema of a model for a role: strict (unknown and system fields refused), `_state` only for publishers on v2, the owner field never. */
function writeSchema(model: CockpitModel, user: User, version: 1 | 2, partial: boolean): z.ZodObject {
  const publishes = version === 2 && model.publish.includes(user.role)
  const variant = `${partial ? 'partial' : 'full'}:${publishes ? 'publish' : 'plain'}`
  let schemas = writeSchemas.get(model)
  if (!schemas) writeSchemas.set(model, schemas = new Map())
  let schema = schemas.get(variant)
  if (!schema) {
    schema = model.schema
    if (model.ownerField) schema = schema.omit({ [model.ownerField]: true } as Record<string, true>)
    if (partial) schema = schema.partial()
    if (publishes) schema = schema.extend({ _state: z.union([z.literal(0), z.literal(1)]).optional() })
    schema = schema.strict()
    schemas.set(variant, schema)
  }
  return schema
}

function validateWrite(model: CockpitModel, user: User, version: 1 | 2, body: unknown, partial: boolean): Record<string, unknown> {
  const result = writeSchema(model, user, version, partial).safeParse(body)
  if (!result.success) throw createError({ statusCode: 422, statusMessage: 'Validation failed', data: { code: 'VALIDATION_FAILED', issues: toGatewayIssues(result.error) } })
  if (partial && Object.keys(result.data).length === 0) throw createError({ statusCode: 422, statusMessage: 'Validation failed', data: { code: 'VALIDATION_FAILED', issues: [{ path: [], code: 'empty', message: 'Nothing to update' }] } })
  return result.data
}

/**
 * Whether `user` may do `action` on the model (and on `item`, for `'owner'` rules); throws 401/403
 * (`FORBIDDEN`, or `NOT_OWNER` when only ownership could have allowed it) otherwise.
 * @param event the request
 * @param model the declared model
 * @param action the write action
 * @param itemId for update/delete: the item whose owner is checked when the role alone is not enough
 * @public
 */
export async function requirePermission(event: H3Event, model: CockpitModel, action: CockpitWriteAction, itemId?: string): Promise<User> {
  const { user } = await requireGatewaySession(event)
  const allowed = model[action]
  if (allowed.includes(user.role)) return user
  if (!allowed.includes('owner') || action === 'create' || !itemId) forbidden('FORBIDDEN')
  const config = useGatewayConfig(event)
  const item = await withCockpitErrors(useCockpitClient(event).get(model.name, itemId, { key: config.cockpit.readKey }))
  if (!item) notFound()
  if ((await getCockpitItemOwner(model, item)) !== user.id) forbidden('NOT_OWNER')
  return user
}

/**
 * `POST items/:model`: validates against the schema, stores with the role's write key, records the
 * creator as owner, invalidates the model's cached reads; resolves the stored item.
 * @param event the request
 * @param model the declared model
 * @param body the parsed JSON body
 */
export async function createCockpitItem(event: H3Event, model: CockpitModel, body: unknown): Promise<CockpitItem> {
  const user = await requirePermission(event, model, 'create')
  const config = useGatewayConfig(event)
  const data = validateWrite(model, user, config.cockpit.version, body, false)
  await requireRateLimit(event, 'write', `user:${user.id}`)
  if (model.ownerField) data[model.ownerField] = user.id
  const item = await withCockpitErrors(useCockpitClient(event).create(model.name, data, { key: getCockpitWriteKey(config, user.role) }))
  await setCockpitItemOwner(model, item._id, user.id)
  await invalidateCockpitModelCache(model.name)
  return toPublicCockpitItem(model, item)
}

/**
 * `PATCH items/:model/:id`: permission (role or ownership), partial validation, update, invalidation;
 * resolves the full stored item, 404 `NOT_FOUND` when it doesn't exist.
 * @param event the request
 * @param model the declared model
 * @param id item id
 * @param body the parsed JSON body
 */
export async function updateCockpitItem(event: H3Event, model: CockpitModel, id: string, body: unknown): Promise<CockpitItem> {
  const user = await requirePermission(event, model, 'update', id)
  const config = useGatewayConfig(event)
  const data = validateWrite(model, user, config.cockpit.version, body, true)
  await requireRateLimit(event, 'write', `user:${user.id}`)
  const item = await withCockpitErrors(useCockpitClient(event).update(model.name, id, data, { key: getCockpitWriteKey(config, user.role) }))
  await invalidateCockpitModelCache(model.name)
  return toPublicCockpitItem(model, item)
}

/**
 * `DELETE items/:model/:id`: permission (role or ownership), delete, forget the owner record, invalidate;
 * 404 `NOT_FOUND` when it doesn't exist.
 * @param event the request
 * @param model the declared model
 * @param id item id
 */
export async function deleteCockpitItem(event: H3Event, model: CockpitModel, id: string): Promise<void> {
  const user = await requirePermission(event, model, 'delete', id)
  const config = useGatewayConfig(event)
  await requireRateLimit(event, 'write', `user:${user.id}`)
  await withCockpitErrors(useCockpitClient(event).remove(model.name, id, { key: getCockpitWriteKey(config, user.role) }))
  await removeCockpitItemOwner(model, id)
  await invalidateCockpitModelCache(model.name)
}
