import { createError, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import { withCockpitErrors } from '../cockpit/cockpit-errors'
import { useCockpitClient } from '../cockpit/cockpit'
import { requirePermission } from './cockpit-items'
import type { CockpitWriteAction } from './cockpit-items'
import { useGatewayConfig } from '../config/gateway-config'
import { requireGatewaySession } from '../session/gateway-session'
import { getCockpitItemEtag, isCockpitIfMatchSatisfied } from './item-etag'

/**
 * Checks an `If-Match` precondition of an update or delete against the item as Cockpit holds it now
 * (one read with the read key). Call it while holding the item's write lock, so no other gateway write of
 * the item falls between this check and the write.
 * @param event the request
 * @param model the declared model
 * @param action `update` or `delete`
 * @param id item id
 * @param ifMatch the `If-Match` header value
 * @throws 401 without a session; when the precondition fails, first the permission errors the write would
 *   have answered (403 `FORBIDDEN`/`NOT_OWNER`, 404), then 404 `NOT_FOUND` for a missing item, else 409
 *   `CONFLICT` with the current `ETag` header
 */
export async function requireCockpitIfMatch(event: H3Event, model: CockpitModel, action: CockpitWriteAction, id: string, ifMatch: string): Promise<void> {
  await requireGatewaySession(event)
  const item = await withCockpitErrors(useCockpitClient(event).get(model.name, id, { key: useGatewayConfig(event).cockpit.readKey }))
  const etag = item ? await getCockpitItemEtag(model, item) : undefined
  if (etag && isCockpitIfMatchSatisfied(ifMatch, etag)) return
  // Someone who may not write the item learns nothing about it from a failed precondition.
  await requirePermission(event, model, action, id)
  if (!etag) throw createError({ statusCode: 404, statusMessage: 'Item not found', data: { code: 'NOT_FOUND' } })
  setResponseHeader(event, 'etag', etag)
  throw createError({ statusCode: 409, statusMessage: 'Changed since read', data: { code: 'CONFLICT' } })
}
