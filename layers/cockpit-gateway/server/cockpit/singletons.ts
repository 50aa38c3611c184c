import { CockpitError } from './cockpit-errors'
import type { CockpitHttp } from './cockpit-http'
import { parseCockpitJson } from './cockpit-response'
import type { CockpitCallOptions } from './cockpit-types'
import { classifyCockpitV1Failure } from './cockpit-v1'
import { classifyCockpitV2Failure } from './cockpit-v2'
import { encodeCockpitModel, isCockpitPlainObject, requireCockpitKey, toCockpitWriteData } from './cockpit-validate'

// Singletons (contract section 4). Values are returned as Cockpit stores them; the gateway picks the
// declared fields out of them.

function requireValue(body: unknown): Record<string, unknown> {
  if (!isCockpitPlainObject(body)) throw new CockpitError('UPSTREAM_ERROR', 200)
  return body
}

/**
 * v2 `GET /api/content/item/{name}`: the singleton document (the model's default item when never saved).
 * @param http the shared transport
 * @param name singleton name
 * @param options the key (read key)
 * @param operation name handed to the hooks
 */
export async function getCockpitV2Singleton(http: CockpitHttp, name: string, options: CockpitCallOptions, operation = 'singleton:get'): Promise<Record<string, unknown>> {
  const response = await http({
    method: 'GET',
    path: `/api/content/item/${encodeCockpitModel(name)}`,
    secretHeaders: { 'api-key': requireCockpitKey(options.key) },
    operation,
    model: name,
    retry: true,
  })
  if (response.status === 200) return requireValue(parseCockpitJson(response.text))
  const error = classifyCockpitV2Failure(response)
  // A singleton read never answers the item's empty 404: any 404 means no such model.
  throw error.code === 'NOT_FOUND' ? new CockpitError('MODEL_NOT_FOUND', response.status) : error
}

/**
 * v2 partial singleton write. The stored document's `_id` is read first (with the read key) and sent with
 * the data, which makes Cockpit merge the sent fields onto the stored document; without `_id` Cockpit
 * would reset every unsent field to `null` (contract 4.1). Only when nothing was ever saved (no `_id`
 * yet) is the write made without one: every field is still `null` then, so nothing is lost.
 * @param http the shared transport
 * @param name singleton name
 * @param data the fields to change (no system fields)
 * @param options the write key, and the read key for the `_id` lookup
 */
export async function updateCockpitV2Singleton(http: CockpitHttp, name: string, data: Record<string, unknown>, options: CockpitCallOptions & { readKey: string }): Promise<Record<string, unknown>> {
  const fields = toCockpitWriteData(data)
  const secretHeaders = { 'api-key': requireCockpitKey(options.key) }
  const stored = await getCockpitV2Singleton(http, name, { key: options.readKey }, 'singleton:update:check')
  const id = typeof stored._id === 'string' ? stored._id : undefined
  const response = await http({
    method: 'POST',
    path: `/api/content/item/${encodeCockpitModel(name)}`,
    json: { data: id ? { ...fields, _id: id } : fields },
    secretHeaders,
    operation: 'singleton:update',
    model: name,
  })
  if (response.status !== 200) throw classifyCockpitV2Failure(response)
  // With `_id` the answer is the full merged document; without, the full stored one.
  return requireValue(parseCockpitJson(response.text))
}

/**
 * v1 `GET /api/singletons/get/{name}`: the stored value (`null` values when never saved).
 * @param http the shared transport
 * @param name singleton name
 * @param options the key (read key: a special key whose rules cover `/api/singletons/get/{name}`)
 */
export async function getCockpitV1Singleton(http: CockpitHttp, name: string, options: CockpitCallOptions): Promise<Record<string, unknown>> {
  const response = await http({
    method: 'GET',
    path: `/api/singletons/get/${encodeCockpitModel(name)}`,
    secretHeaders: { 'cockpit-token': requireCockpitKey(options.key) },
    operation: 'singleton:get',
    model: name,
    retry: true,
  })
  if (response.status === 200) {
    const body = parseCockpitJson(response.text)
    // A singleton that was defined but never saved answers `null`.
    return body === null ? {} : requireValue(body)
  }
  // An unknown singleton: an empty 404.
  if (response.status === 404) throw new CockpitError('MODEL_NOT_FOUND', 404)
  throw classifyCockpitV1Failure(response)
}

/**
 * v1 has no REST write for singletons (only the admin UI's session route): always `NOT_SUPPORTED`, before any call.
 */
export async function updateCockpitV1Singleton(): Promise<never> {
  throw new CockpitError('NOT_SUPPORTED')
}
