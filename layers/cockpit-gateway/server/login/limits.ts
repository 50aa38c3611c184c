import { createError, setResponseHeader, setResponseHeaders } from 'h3'
import type { H3Event } from 'h3'
import { useStorage } from 'nitropack/runtime'
import { useGatewayConfig } from '../config/gateway-config'
import { callRateLimitStore } from '../rate-limit/gateway-rate-limit'
import { consumeBackoff, peekBackoff, refundBackoff } from '../rate-limit/backoff'
import type { BackoffPolicy } from '../rate-limit/backoff'
import { buildRateLimitKey, consumeRateLimit, peekRateLimit, rateLimitHeaders, refundRateLimit } from '../rate-limit/rate-limit'
import type { RateLimitResult } from '../rate-limit/rate-limit'
import type { LoginDevice } from './device'

// What a login attempt is counted against:
// - per client IP (`login`, GCRA): every attempt that does not succeed, invalid usernames included;
// - per account (`loginUser`, growing waits): failures only; a client holding the account's device cookie is
//   counted in its own bucket for that account instead of the shared one.
// Both are reserved before the attempt (so parallel attempts can't slip past) and given back when it succeeds.

const NAMESPACE = 'cockpit-gateway:rate-limit'

/** The per-account bucket an attempt is counted in. */
export interface LoginAccountBucket {
  /** Canonical account key (the identity provider's `canonicalUsername`). */
  account: string
  /** The request's device entry for this account, if it holds one. */
  device: LoginDevice | null
}

/** Reservations of one login attempt, settled once its outcome is known. */
export interface LoginReservation {
  /** Succeeded: the IP unit is given back; the device's failures are cleared, or the account's reservation given back. */
  succeed(): Promise<void>
  /** No verdict (the provider failed): every reservation is given back. */
  cancel(): Promise<void>
}

const NOTHING_RESERVED: LoginReservation = { succeed: async () => {}, cancel: async () => {} }

function refuse(event: H3Event, ...waits: (number | undefined)[]): never {
  const retryAfter = Math.max(1, ...waits.map(wait => wait ?? 0))
  setResponseHeader(event, 'Retry-After', retryAfter)
  throw createError({ statusCode: 429, statusMessage: 'Too many requests', data: { code: 'RATE_LIMITED', retryAfter } })
}

function setIpHeaders(event: H3Event, result: RateLimitResult | undefined): void {
  if (result) setResponseHeaders(event, rateLimitHeaders(result, 'login'))
}

/**
 * Reserves a login attempt per client IP and, when the username is one an account could have, per account.
 * A refused attempt counts nowhere and gets 429 `RATE_LIMITED` whose `retryAfter` (and `Retry-After`) is the
 * longest wait of the policies that refuse it, read without counting: the time after which the same request is
 * admitted. Store failures follow each policy's `failOpen`.
 * @param event the login request
 * @param ip the client address
 * @param bucket the account bucket, or `undefined` for a username no account can have (counted per IP only)
 */
export async function reserveLoginAttempt(event: H3Event, ip: string, bucket: LoginAccountBucket | undefined): Promise<LoginReservation> {
  if (import.meta.prerender) return NOTHING_RESERVED
  const { login, loginUser } = useGatewayConfig(event).rateLimit
  const backoff: BackoffPolicy = { free: loginUser.limit, delay: loginUser.delay, maxDelay: loginUser.maxDelay, window: loginUser.window }
  const storage = useStorage()
  const ipKey = buildRateLimitKey(NAMESPACE, 'login', ip)
  const accountKey = bucket && (bucket.device
    ? buildRateLimitKey(NAMESPACE, 'loginDevice', bucket.account, bucket.device.id)
    : buildRateLimitKey(NAMESPACE, 'loginUser', bucket.account))

  const onIp = <T>(call: () => Promise<T>) => callRateLimitStore('login', login.failOpen, call)
  const onAccount = <T>(call: (key: string) => Promise<T>) => accountKey ? callRateLimitStore('loginUser', loginUser.failOpen, () => call(accountKey)) : Promise.resolve(undefined)

  // Decided first without counting: a refused request changes no bucket, so waiting does not grow with retries.
  const ipPeek = await onIp(() => peekRateLimit(storage, ipKey, login))
  const accountPeek = await onAccount(key => peekBackoff(storage, key, backoff))
  if (ipPeek?.allowed === false || accountPeek?.allowed === false) {
    setIpHeaders(event, ipPeek)
    refuse(event, ipPeek?.retryAfterSeconds, accountPeek?.retryAfterSeconds)
  }

  // Then reserved; a concurrent request may have taken the last unit in between.
  const ipResult = await onIp(() => consumeRateLimit(storage, ipKey, login))
  setIpHeaders(event, ipResult)
  if (ipResult?.allowed === false) refuse(event, ipResult.retryAfterSeconds, accountPeek?.retryAfterSeconds)
  const refundIp = async () => {
    if (ipResult) await onIp(() => refundRateLimit(storage, ipKey, login))
  }
  const accountResult = await onAccount(key => consumeBackoff(storage, key, backoff))
  if (accountResult?.allowed === false) {
    await refundIp()
    const ipNow = await onIp(() => peekRateLimit(storage, ipKey, login))
    setIpHeaders(event, ipNow)
    refuse(event, ipNow?.retryAfterSeconds, accountResult.retryAfterSeconds)
  }
  const refundAccount = async () => {
    if (accountResult) await onAccount(key => refundBackoff(storage, key, backoff))
  }

  // Settling never fails a login: a store that broke meanwhile only leaves the reservation counted.
  const quietly = (task: () => Promise<unknown>) => task().then(() => {}, () => {})
  return {
    async succeed() {
      await quietly(refundIp)
      if (accountResult && bucket?.device) await quietly(() => onAccount(key => storage.removeItem(key)))
      else await quietly(refundAccount)
    },
    async cancel() {
      await quietly(refundIp)
      await quietly(refundAccount)
    },
  }
}
