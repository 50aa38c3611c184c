import { setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import { serveCockpitItem } from './cockpit-items'
import { getCockpitItemBodyEtag } from './item-etag'

/**
 * `GET items/:model/:id`: the item (see `serveCockpitItem`) with its `ETag`, for `If-Match` on a later
 * update or delete. Only a full read has one: with `fields` or `locale` the body is not the stored item.
 * The tag is memoised per body, so a cached read does not hash again.
 * @param event the request
 * @param model the declared model
 * @param id item id
 */
export async function sendCockpitItem(event: H3Event, model: CockpitModel, id: string): Promise<string> {
  const body = await serveCockpitItem(event, model, id)
  if (!event.path.includes('?')) setResponseHeader(event, 'etag', await getCockpitItemBodyEtag(model, body))
  return body
}
