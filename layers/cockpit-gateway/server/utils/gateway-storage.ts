import { prefixStorage } from 'unstorage'
import type { Storage } from 'unstorage'
import { useStorage } from 'nitropack/runtime'

/**
 * The gateway's storage areas:
 * - `rate-limit`: limiter buckets (memory by default; Redis for several instances);
 * - `cache`: cached public reads;
 * - `state`: session revocation and ownership records, which must survive a restart: unless a driver is
 *   mounted at `cockpit-gateway:state` (Redis through `redisUrl`, or your own), they live in Nitro's
 *   persistent `data` mount.
 */
export type GatewayStorageArea = 'rate-limit' | 'cache' | 'state'

/**
 * Storage of one gateway area.
 * @param area which area
 */
export function useGatewayStorage(area: GatewayStorageArea): Storage {
  const base = `cockpit-gateway:${area}`
  const storage = useStorage()
  if (area === 'state' && storage.getMount(`${base}:`).base === '') {
    return prefixStorage(storage, `data:${base}`)
  }
  return prefixStorage(storage, base)
}
