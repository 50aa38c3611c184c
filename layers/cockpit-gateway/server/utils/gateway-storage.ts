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

const views = new Map<GatewayStorageArea, Storage>()

/**
 * Storage of one gateway area. The view is built once (a prefix view resolves mounts at call time,
 * so a driver mounted later still takes its keys); only the `state` area's choice of the `data` mount
 * is fixed then, which is why the storage plugin calls {@link resetGatewayStorageViews} after mounting.
 * @param area which area
 */
export function useGatewayStorage(area: GatewayStorageArea): Storage {
  let view = views.get(area)
  if (!view) {
    const base = `cockpit-gateway:${area}`
    const storage = useStorage()
    const onData = area === 'state' && storage.getMount(`${base}:`).base === ''
    view = prefixStorage(storage, onData ? `data:${base}` : base)
    views.set(area, view)
  }
  return view
}

/** Forgets the built views: call after (un)mounting a driver under `cockpit-gateway:`. */
export function resetGatewayStorageViews(): void {
  views.clear()
}
