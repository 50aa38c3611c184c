import type { Driver } from 'unstorage'
import { DURABLE_DRIVER_NAME } from './durable-protocol'
import type { DurableStateClient, DurableStateRequest } from './durable-protocol'
import { RateLimitStoreError } from './store-error'

// The gateway's Durable Object driver (Cloudflare): the key's own object runs the limiter's step on its
// storage (see durable-object.ts), so one round trip decides, exactly, for every isolate.

/**
 * Whether a mount's driver is the gateway's Durable Object driver.
 * @param driver the mount's driver
 */
export function isDurableDriver(driver: Driver): driver is Driver & { getInstance: () => DurableStateClient } {
  return driver?.name === DURABLE_DRIVER_NAME && typeof driver.getInstance === 'function'
}

/**
 * Runs one limiter step in the key's Durable Object; any failure becomes a {@link RateLimitStoreError}.
 * @param driver the Durable Object driver
 * @param request the step
 */
export async function runInDurableObject<R extends Extract<DurableStateRequest, { op: 'gcra' | 'backoff' }>>(driver: Driver & { getInstance: () => DurableStateClient }, request: R) {
  try {
    return await driver.getInstance().call(request)
  }
  catch (error) {
    throw new RateLimitStoreError(error)
  }
}
