import { prefixStorage } from 'unstorage'
import type { Storage } from 'unstorage'
import { useStorage } from 'nitropack/runtime'
import { guardGatewayStoreCall } from './gateway-store-breaker'

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
 * Every call goes through the area's breaker: while the store is down, calls fail at once with
 * `GatewayStoreDownError` instead of waiting for a dead connection.
 * @param area which area
 */
export function useGatewayStorage(area: GatewayStorageArea): Storage {
  let view = views.get(area)
  if (!view) {
    const base = `cockpit-gateway:${area}`
    const storage = useStorage()
    const onData = area === 'state' && storage.getMount(`${base}:`).base === ''
    view = withStoreBreaker(area, prefixStorage(storage, onData ? `data:${base}` : base))
    views.set(area, view)
  }
  return view
}

/** Forgets the built views: call after (un)mounting a driver under `cockpit-gateway:`. */
export function resetGatewayStorageViews(): void {
  views.clear()
}

// The calls that reach the store; watch/unwatch/mount/dispose are left as they are.
const STORE_CALLS = ['hasItem', 'getItem', 'getItems', 'getItemRaw', 'setItem', 'setItems', 'setItemRaw', 'removeItem', 'getMeta', 'getKeys', 'keys', 'clear'] as const

function withStoreBreaker(area: GatewayStorageArea, view: Storage): Storage {
  const guarded: Record<string, unknown> = { ...view }
  for (const name of STORE_CALLS) {
    const call = view[name] as (...args: unknown[]) => Promise<unknown>
    if (typeof call === 'function') guarded[name] = (...args: unknown[]) => guardGatewayStoreCall(area, () => call(...args))
  }
  return guarded as unknown as Storage
}
