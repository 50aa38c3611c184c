import type { GatewayStorageArea } from './gateway-storage'
import { useGatewayConfig } from '../config/gateway-config'

/**
 * A store call refused without being tried, because the store failed a moment ago: the caller fails open
 * or closed at once instead of waiting for a dead connection. Fixed message, no address.
 */
export class GatewayStoreDownError extends Error {
  /** @param area the storage area that is down */
  constructor(readonly area: GatewayStorageArea) {
    super('Gateway store unavailable')
    this.name = 'GatewayStoreDownError'
  }
}

interface AreaState {
  /** The area's connection is known lost (Redis `close`/`error`) until it reports `ready`. */
  disconnected: boolean
  /** A call failed: calls are refused until then, when one call goes through as a probe. */
  retryAt: number
}

const areas = new Map<GatewayStorageArea, AreaState>()

function stateOf(area: GatewayStorageArea): AreaState {
  let state = areas.get(area)
  if (!state) areas.set(area, state = { disconnected: false, retryAt: 0 })
  return state
}

const DEFAULT_RETRY_INTERVAL = 2000

function retryInterval(): number {
  try {
    return useGatewayConfig().storeRetryInterval
  }
  catch {
    // A config error is reported by the request that reads it; the breaker still needs an interval.
    return DEFAULT_RETRY_INTERVAL
  }
}

/**
 * Whether `area` is known down right now (a read-only check, for choosing what to serve without it).
 * @param area the storage area
 */
export function isGatewayStoreDown(area: GatewayStorageArea): boolean {
  const state = areas.get(area)
  return !!state && (state.disconnected || Date.now() < state.retryAt)
}

/**
 * Whether a call to `area` may go ahead now. After a failure, one caller per retry interval is let
 * through as a probe (everyone else is refused until it answers or the next interval), so a dead store
 * costs one waiting request per interval, not one per request. A Redis connection known lost is skipped
 * until it is ready again: ioredis reconnects on its own, so no request needs to probe it.
 * @param area the storage area
 */
export function mayCallGatewayStore(area: GatewayStorageArea): boolean {
  const state = areas.get(area)
  if (!state) return true
  if (state.disconnected) return false
  if (state.retryAt === 0) return true
  const now = Date.now()
  if (now < state.retryAt) return false
  state.retryAt = now + retryInterval()
  return true
}

/**
 * Records a failed call: the area is skipped for `storeRetryInterval` ms.
 * @param area the storage area
 */
export function noteGatewayStoreFailure(area: GatewayStorageArea): void {
  const interval = retryInterval()
  if (interval > 0) stateOf(area).retryAt = Date.now() + interval
}

/**
 * Records a call that worked: the area is up again.
 * @param area the storage area
 */
export function noteGatewayStoreSuccess(area: GatewayStorageArea): void {
  const state = areas.get(area)
  if (state && !state.disconnected) state.retryAt = 0
}

/**
 * What the area's connection reports (the storage plugin's Redis listeners): lost, or ready again.
 * @param area the storage area
 * @param connected whether the connection is ready
 */
export function setGatewayStoreConnected(area: GatewayStorageArea, connected: boolean): void {
  const state = stateOf(area)
  state.disconnected = !connected
  if (connected) state.retryAt = 0
}

/**
 * Runs a store call unless the area is down; a failure marks it down, a success up.
 * @param area the storage area
 * @param call the store call
 * @throws GatewayStoreDownError without calling when the area is down; whatever `call` throws otherwise
 */
export async function guardGatewayStoreCall<T>(area: GatewayStorageArea, call: () => Promise<T>): Promise<T> {
  if (!mayCallGatewayStore(area)) throw new GatewayStoreDownError(area)
  let result: T
  try {
    result = await call()
  }
  catch (error) {
    noteGatewayStoreFailure(area)
    throw error
  }
  noteGatewayStoreSuccess(area)
  return result
}
