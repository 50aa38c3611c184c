import { createError, getQuery, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import { z } from 'zod'
import type { User } from '#auth-utils'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import { cockpitErrorToH3, isCockpitError } from './cockpit-errors'
import type { CockpitItem, CockpitList } from './cockpit-types'
import { getCachedCockpitRead, invalidateCockpitModelCache } from './cockpit-cache'
import { buildCockpitListQuery, itemQuerySchema, parseCockpitFields } from './cockpit-list-query'
import { getCockpitItemOwner, removeCockpitItemOwner, setCockpitItemOwner } from './cockpit-owners'
import { getCockpitWriteKey, useCockpitClient } from './cockpit'
import { getGatewayClientIp } from './client-ip'
import { toGatewayIssues } from './gateway-body'
import { useGatewayConfig } from './gateway-config'
import { requireRateLimit } from './gateway-rate-limit'
import { getGatewaySession, requireGatewaySession } from './gateway-session'

/** Write actions of a model policy. */
export type CockpitWriteAction = 'create' | 'update' | 'delete'

const SYSTEM_FIELDS_OUT = ['_id', '_created', '_modified'] as const

function forbidden(code: 'FORBIDDEN' | 'NOT_OWNER'): never {
  throw createError({ statusCode: 403, statusMessage: code === 'NOT_OWNER' ? 'Not the owner' : 'Forbidden', data: { code } })
}

function notFound(): never {
  throw createError({ statusCode: 404, statusMessage: 'Item not found', data: { code: 'NOT_FOUND' } })
}

async function upstream<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  }
  catch (error) {
    throw isCockpitError(error) ? cockpitErrorToH3(error) : error
  }
}

/** Only the model's own fields and a few system fields leave the gateway (no `_cby`, `_by`, internals). */
function toPublicItem(model: CockpitModel, item: CockpitItem): CockpitItem {
  const out: Record<string, unknown> = {}
  for (const field of [...Object.keys(model.schema.shape), ...SYSTEM_FIELDS_OUT, ...(model.publish.length ? ['_state'] : [])]) {
    if (item[field] !== undefined) out[field] = item[field]
  }
  return out as CockpitItem
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

/**
 * `GET items/:model`: checks read access, validates the query, and answers `{ items, total }`. Reads
 * that don't depend on the session (public model, reader who can't write) share one cached entry and
 * always carry `publicFilter`; a writer's reads bypass the cache.
 * @param event the request
 * @param model the declared model
 */
export async function listCockpitItems(event: H3Event, model: CockpitModel): Promise<CockpitList> {
  const user = await requireReadAccess(event, model)
  const config = useGatewayConfig(event)
  const query = buildCockpitListQuery(model, getQuery(event), config.limits)
  await countRead(event, user)
  const client = useCockpitClient(event)
  const read = async () => {
    const list = await upstream(client.list(model.name, query, { key: config.cockpit.readKey }))
    return { items: list.items.map(item => toPublicItem(model, item)), total: list.total }
  }
  if (model.read !== 'public' || isWriter(model, user)) {
    setResponseHeader(event, 'cache-control', 'private, no-store')
    return read()
  }
  if (model.publicFilter) query.filter = query.filter ? { $and: [model.publicFilter, query.filter] } : { ...model.publicFilter }
  const { value, status } = await getCachedCockpitRead(event, model.name, `list:${JSON.stringify(query)}`, read)
  setResponseHeader(event, 'x-cockpit-gateway-cache', status)
  return value
}

/**
 * `GET items/:model/:id`: like {@link listCockpitItems} for one item; 404 `NOT_FOUND` when missing or
 * outside `publicFilter` for this reader.
 * @param event the request
 * @param model the declared model
 * @param id item id
 */
export async function getCockpitItem(event: H3Event, model: CockpitModel, id: string): Promise<CockpitItem> {
  const user = await requireReadAccess(event, model)
  const config = useGatewayConfig(event)
  const parsed = itemQuerySchema.safeParse(getQuery(event))
  if (!parsed.success) throw createError({ statusCode: 400, statusMessage: 'Invalid query', data: { code: 'INVALID_QUERY', issues: toGatewayIssues(parsed.error) } })
  const fields = parseCockpitFields(model, parsed.data.fields)
  // `publicFilter` is checked on the answer, so its fields are read even when a projection leaves them out.
  const filterFields = Object.fromEntries(Object.keys(model.publicFilter ?? {}).map(field => [field, 1 as const]))
  const options = { key: config.cockpit.readKey, fields: fields && { ...fields, ...filterFields }, locale: parsed.data.locale }
  await countRead(event, user)
  const client = useCockpitClient(event)
  const read = async () => {
    const item = await upstream(client.get(model.name, id, options))
    return item ? toPublicItem(model, item) : null
  }
  const project = (item: CockpitItem) => fields ? Object.fromEntries(Object.entries(item).filter(([field]) => field === '_id' || Object.hasOwn(fields, field))) as CockpitItem : item
  if (model.read !== 'public' || isWriter(model, user)) {
    setResponseHeader(event, 'cache-control', 'private, no-store')
    return project((await read()) ?? notFound())
  }
  const { value, status } = await getCachedCockpitRead(event, model.name, `item:${id}:${JSON.stringify(parsed.data)}`, read)
  setResponseHeader(event, 'x-cockpit-gateway-cache', status)
  if (!value || !matchesPublicFilter(model, value)) notFound()
  return project(value)
}

/** The one write schema of a model for a role: strict (unknown and system fields refused), `_state` only for publishers on v2, the owner field never. */
function writeSchema(model: CockpitModel, user: User, version: 1 | 2, partial: boolean) {
  let schema: z.ZodObject = model.schema
  if (model.ownerField) schema = schema.omit({ [model.ownerField]: true } as Record<string, true>)
  if (partial) schema = schema.partial()
  if (version === 2 && model.publish.includes(user.role)) schema = schema.extend({ _state: z.union([z.literal(0), z.literal(1)]).optional() })
  return schema.strict()
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
 */
export async function requirePermission(event: H3Event, model: CockpitModel, action: CockpitWriteAction, itemId?: string): Promise<User> {
  const { user } = await requireGatewaySession(event)
  const allowed = model[action]
  if (allowed.includes(user.role)) return user
  if (!allowed.includes('owner') || action === 'create' || !itemId) forbidden('FORBIDDEN')
  const config = useGatewayConfig(event)
  const item = await upstream(useCockpitClient(event).get(model.name, itemId, { key: config.cockpit.readKey }))
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
  const item = await upstream(useCockpitClient(event).create(model.name, data, { key: getCockpitWriteKey(config, user.role) }))
  await setCockpitItemOwner(model, item._id, user.id)
  await invalidateCockpitModelCache(model.name)
  return toPublicItem(model, item)
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
  const item = await upstream(useCockpitClient(event).update(model.name, id, data, { key: getCockpitWriteKey(config, user.role) }))
  await invalidateCockpitModelCache(model.name)
  return toPublicItem(model, item)
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
  await upstream(useCockpitClient(event).remove(model.name, id, { key: getCockpitWriteKey(config, user.role) }))
  await removeCockpitItemOwner(model, id)
  await invalidateCockpitModelCache(model.name)
}
