import { createError, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import type { z } from 'zod'
import type { User } from '#auth-utils'
import type { CockpitSingleton } from '../../shared/utils/cockpit-singleton'
import { getCockpitWriteKey, useCockpitClient } from '../cockpit/cockpit'
import { getCachedCockpitRead, invalidateCockpitModelCache } from '../cache/cockpit-cache'
import { withCockpitErrors } from '../cockpit/cockpit-errors'
import { getGatewayClientIp } from '../client-address/client-ip'
import { toGatewayIssues } from '../guards/gateway-body'
import { useGatewayConfig } from '../config/gateway-config'
import { requireRateLimit } from '../rate-limit/gateway-rate-limit'
import { getGatewaySession, requireGatewaySession } from '../session/gateway-session'

function forbidden(): never {
  throw createError({ statusCode: 403, statusMessage: 'Forbidden', data: { code: 'FORBIDDEN' } })
}

// Per singleton, worked out once: its field names, and its strict partial write schema (zod compiles a
// schema on its first parse).
const fieldsBySingleton = new WeakMap<CockpitSingleton, string[]>()
const writeSchemas = new WeakMap<CockpitSingleton, z.ZodObject>()

/** Only the declared fields leave the gateway (never `_id`, `_model`, `_mby`…); a field never saved is `null`. */
function toPublicValue(singleton: CockpitSingleton, stored: Record<string, unknown>): Record<string, unknown> {
  let fields = fieldsBySingleton.get(singleton)
  if (!fields) fieldsBySingleton.set(singleton, fields = Object.keys(singleton.schema.shape))
  const out: Record<string, unknown> = {}
  for (const field of fields) out[field] = stored[field] ?? null
  return out
}

async function requireReadAccess(event: H3Event, singleton: CockpitSingleton): Promise<User | undefined> {
  if (singleton.read === 'public') return (await getGatewaySession(event))?.user
  const { user } = await requireGatewaySession(event)
  if (singleton.read !== 'authenticated' && !singleton.read.includes(user.role)) forbidden()
  return user
}

/**
 * `GET singletons/:name`: the declared fields of the singleton's value, as a JSON body. A public
 * singleton's read is shared and cached like a public item read (and invalidated by `PATCH` and the
 * webhook); any other is read per request, `private, no-store`. Counted against the `read` rate limit.
 * @param event the request
 * @param singleton the declared singleton
 */
export async function serveCockpitSingleton(event: H3Event, singleton: CockpitSingleton): Promise<string> {
  const user = await requireReadAccess(event, singleton)
  const config = useGatewayConfig(event)
  await requireRateLimit(event, 'read', user ? `user:${user.id}` : getGatewayClientIp(event, config.trustProxy))
  const read = async () => JSON.stringify(toPublicValue(singleton, await withCockpitErrors(useCockpitClient(event).getSingleton(singleton.name, { key: config.cockpit.readKey }))))
  setResponseHeader(event, 'content-type', 'application/json')
  if (singleton.read !== 'public') {
    setResponseHeader(event, 'cache-control', 'private, no-store')
    return read()
  }
  const { body, status } = await getCachedCockpitRead(event, singleton.name, 'singleton', read)
  setResponseHeader(event, 'x-cockpit-gateway-cache', status)
  return body
}

function validateUpdate(singleton: CockpitSingleton, body: unknown): Record<string, unknown> {
  let schema = writeSchemas.get(singleton)
  if (!schema) writeSchemas.set(singleton, schema = singleton.schema.partial().strict())
  const result = schema.safeParse(body)
  if (!result.success) throw createError({ statusCode: 422, statusMessage: 'Validation failed', data: { code: 'VALIDATION_FAILED', issues: toGatewayIssues(result.error) } })
  if (Object.keys(result.data).length === 0) throw createError({ statusCode: 422, statusMessage: 'Validation failed', data: { code: 'VALIDATION_FAILED', issues: [{ path: [], code: 'empty', message: 'Nothing to update' }] } })
  return result.data
}

/**
 * `PATCH singletons/:name`: for the singleton's `update` roles, a partial update with its strict schema
 * (422 on unknown fields), made with the role's write key; fields not sent keep their stored values.
 * v1 has no REST write: 501 `NOT_SUPPORTED`, before any upstream call. Resolves the stored value's
 * declared fields and invalidates the cached reads.
 * @param event the request
 * @param singleton the declared singleton
 * @param body the parsed JSON body
 */
export async function updateCockpitSingleton(event: H3Event, singleton: CockpitSingleton, body: unknown): Promise<Record<string, unknown>> {
  const { user } = await requireGatewaySession(event)
  if (!singleton.update.includes(user.role)) forbidden()
  const config = useGatewayConfig(event)
  if (config.cockpit.version === 1) throw createError({ statusCode: 501, statusMessage: 'Not supported by this Cockpit version', data: { code: 'NOT_SUPPORTED' } })
  const data = validateUpdate(singleton, body)
  await requireRateLimit(event, 'write', `user:${user.id}`)
  const stored = await withCockpitErrors(useCockpitClient(event).updateSingleton(singleton.name, data, { key: getCockpitWriteKey(config, user.role), readKey: config.cockpit.readKey }))
  await invalidateCockpitModelCache(singleton.name)
  return toPublicValue(singleton, stored)
}
