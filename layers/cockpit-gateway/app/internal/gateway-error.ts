import type { FetchResponse } from 'ofetch'
import type { CockpitGatewayError } from '../composables/useCockpitMutation'

/**
 * The gateway's JSON error from a failed `$fetch` (with the item's current ETag on a 409 `CONFLICT`), or
 * `NETWORK_ERROR` (status 0) when the request never got a gateway answer.
 * @param error what `$fetch` threw
 */
export function toGatewayError(error: unknown): CockpitGatewayError {
  const { data, response } = error as { data?: Partial<CockpitGatewayError>, response?: FetchResponse<unknown> }
  if (data && typeof data.statusCode === 'number' && data.data?.code) {
    const etag = response?.headers.get('etag')
    return etag ? { ...data as CockpitGatewayError, etag } : data as CockpitGatewayError
  }
  return { statusCode: 0, statusMessage: 'Network error', data: { code: 'NETWORK_ERROR' } }
}
