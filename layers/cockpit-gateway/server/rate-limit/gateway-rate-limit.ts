import { createError, setResponseHeaders } from 'h3'
import type { H3Event } from 'h3'
import { useStorage } from 'nitropack/runtime'
import { buildRateLimitKey, consumeRateLimit, rateLimitHeaders } from './rate-limit'
import { RateLimitStoreError } from './store-error'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayConfig } from '../config/gateway-config'
import { GatewayStoreDownError, mayCallGatewayStore, noteGatewayStoreFailure, noteGatewayStoreSuccess } from '../storage/gateway-store-breaker'

/**
 * Named policies from `runtimeConfig.cockpitGateway.rateLimit`.
 * @public
 */
export type GatewayRateLimitPolicy = keyof GatewayConfig['rateLimit']

const storeDown = new Set<GatewayRateLimitPolicy>()

// Subjects repeat (a user, an address): each policy's storage key is built once per subject. Bounded.
const limiterKeys = new Map<string, string>()

function limiterKey(policy: GatewayRateLimitPolicy, subject: string): string {
  const memo = `${policy}\n${subject}`
  let key = limiterKeys.get(memo)
  if (key === undefined) {
    key = buildRateLimitKey('cockpit-gateway:rate-limit', policy, subject)
    if (limiterKeys.size >= 10_000) limiterKeys.clear()
    limiterKeys.set(memo, key)
  }
  return key
}

/**
 * Counts one request against a policy and throws 429 (`RATE_LIMITED`, with `Retry-After` and
 * `data.retryAfter` in seconds) when it is over; sets the `RateLimit-Policy` / `RateLimit` headers either way.
 * A store failure fails closed (503 `RATE_LIMIT_UNAVAILABLE`) or open, per the policy's `failOpen`,
 * and is logged once per incident. Prerendering is never limited.
 * @param event the request
 * @param policy which policy
 * @param subject who is counted: a user id, a client IP, a username
 * @public
 */
export async function requireRateLimit(event: H3Event, policy: GatewayRateLimitPolicy, subject: string): Promise<void> {
  if (import.meta.prerender) return
  const settings = useGatewayConfig(event).rateLimit[policy]
  // The root storage and a full key: the limiter must see which driver holds the key (atomic Lua on Redis).
  const result = await callRateLimitStore(policy, settings.failOpen, () => consumeRateLimit(useStorage(), limiterKey(policy, subject), settings))
  if (!result) return
  setResponseHeaders(event, rateLimitHeaders(result, policy))
  if (!result.allowed) {
    throw createError({ statusCode: 429, statusMessage: 'Too many requests', data: { code: 'RATE_LIMITED', retryAfter: result.retryAfterSeconds } })
  }
}

/**
 * Runs one limiter call of a policy under the policy's rule for a failing store: the call's result, or
 * `undefined` when the store failed and the policy fails open; 503 `RATE_LIMIT_UNAVAILABLE` when it fails
 * closed. Logged once per policy and incident (and once when the store is back).
 * @param policy which policy the call is for
 * @param failOpen the policy's `failOpen`
 * @param call the limiter call (consume, peek, refund)
 */
export async function callRateLimitStore<T>(policy: GatewayRateLimitPolicy, failOpen: boolean, call: () => Promise<T>): Promise<T | undefined> {
  let result: T
  try {
    // A store that just failed is not waited on again (see gateway-store-breaker): the policy decides at once.
    if (!mayCallGatewayStore('rate-limit')) throw new GatewayStoreDownError('rate-limit')
    result = await call()
  }
  catch (error) {
    if (error instanceof RateLimitStoreError) noteGatewayStoreFailure('rate-limit')
    else if (!(error instanceof GatewayStoreDownError)) throw error
    if (!storeDown.has(policy)) {
      storeDown.add(policy)
      console.error(`[cockpit-gateway] rate-limit store unavailable; policy "${policy}" fails ${failOpen ? 'open' : 'closed'} until it is back`)
    }
    if (failOpen) return undefined
    throw createError({ statusCode: 503, statusMessage: 'Service unavailable', data: { code: 'RATE_LIMIT_UNAVAILABLE' } })
  }
  noteGatewayStoreSuccess('rate-limit')
  if (storeDown.delete(policy)) console.info(`[cockpit-gateway] rate-limit store back; policy "${policy}" enforced again`)
  return result
}
