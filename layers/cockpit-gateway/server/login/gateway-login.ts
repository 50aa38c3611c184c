import { createError, sendRedirect } from 'h3'
import type { H3Event } from 'h3'
import type { User } from '#auth-utils'
import { isCockpitError, cockpitErrorToH3 } from '../cockpit/cockpit-errors'
import { getGatewayClientIp } from '../client-address/client-ip'
import { useGatewayConfig } from '../config/gateway-config'
import { startGatewaySession } from '../session/gateway-session'
import { usePasswordIdentityProvider } from './identity-providers'
import type { PasswordIdentityProviderDefinition } from './identity-providers'
import { getLoginDevice, rememberLoginDevice } from './device'
import { reserveLoginAttempt } from './limits'
import type { LoginAccountBucket } from './limits'
import { isPossibleLoginUsername } from './username'
import { traceGatewayRefusal } from '../audit/request-trace'

/**
 * A same-site path to send a browser to, or `fallback`: absolute URLs, protocol-relative `//host`,
 * backslash tricks and control characters are all refused (no open redirect).
 * @param target the requested path
 * @param fallback where to go instead
 */
export function getSafeRedirectPath(target: unknown, fallback = '/'): string {
  if (typeof target !== 'string' || !target.startsWith('/') || target.startsWith('//') || /\\/.test(target) || hasControlCharacter(target)) return fallback
  const base = 'http://gateway.invalid'
  const url = new URL(target, base)
  return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : fallback
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code === 0x7F) return true
  }
  return false
}

/** Log-safe rendering of user input: quoted, escaped, capped. */
function quote(value: string): string {
  return JSON.stringify(value.slice(0, 64))
}

/**
 * Logs a user in with username and password. In order: the configured provider; the attempt reserved per
 * client IP and per account (429 `RATE_LIMITED` with one honest `retryAfter`, see `reserveLoginAttempt`); a
 * username no account can have → 400 `INVALID_USERNAME` (still counted per IP, Cockpit never called); the
 * provider's check, with a vague 401 `INVALID_CREDENTIALS` of a minimum duration for any failure; on success the
 * reservations are given back, a fresh session starts and the browser gets the account's device cookie.
 * Logs user name, IP and outcome; never the password.
 * @param event the request
 * @param username trimmed username
 * @param password password
 */
export async function loginWithPassword(event: H3Event, username: string, password: string): Promise<User> {
  const config = useGatewayConfig(event)
  const ip = getGatewayClientIp(event, config.trustProxy)
  const startedAt = Date.now()
  const provider = await usePasswordIdentityProvider(event)
  if (!provider) {
    throw createError({ statusCode: 404, statusMessage: 'Password login disabled', data: { code: 'PASSWORD_LOGIN_DISABLED' } })
  }
  const possible = isPossibleLoginUsername(username)
  let reservation
  try {
    const bucket = possible ? await getLoginAccountBucket(event, provider, username) : undefined
    reservation = await reserveLoginAttempt(event, ip, bucket)
  }
  catch (error) {
    const status = (error as { statusCode?: number }).statusCode
    console.warn(`[cockpit-gateway] login refused user=${quote(username)} ip=${ip} outcome=${status === 429 ? 'rate-limited' : 'limit-unavailable'}`)
    throw error
  }
  if (!possible) {
    console.warn(`[cockpit-gateway] login refused user=${quote(username)} ip=${ip} outcome=invalid-username`)
    throw createError({ statusCode: 400, statusMessage: 'Invalid username', data: { code: 'INVALID_USERNAME' } })
  }
  let user: User | null
  try {
    user = await provider.authenticate(event, username, password)
  }
  catch (error) {
    await reservation.cancel()
    console.error(`[cockpit-gateway] login failed user=${quote(username)} ip=${ip} outcome=${isCockpitError(error) ? error.code : 'provider-error'}`)
    throw isCockpitError(error) ? cockpitErrorToH3(error) : error
  }
  if (!user) {
    const wait = config.auth.failureDelay - (Date.now() - startedAt)
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    console.warn(`[cockpit-gateway] login failed user=${quote(username)} ip=${ip} outcome=invalid-credentials`)
    throw createError({ statusCode: 401, statusMessage: 'Invalid credentials', data: { code: 'INVALID_CREDENTIALS' } })
  }
  await reservation.succeed()
  await startGatewaySession(event, user)
  // Canonicalised again: a v2 email has just become an alias of its username, and the device is the account's.
  const account = await Promise.resolve().then(() => provider.canonicalUsername(username, event)).catch(() => null)
  if (typeof account === 'string' && account) await rememberLoginDevice(event, account, await getLoginDevice(event, account))
  console.info(`[cockpit-gateway] login ok user=${quote(username)} id=${quote(user.id)} role=${user.role} ip=${ip}`)
  return user
}

/**
 * The per-account bucket of an attempt: the provider's canonical account, and the device entry the request
 * holds for it. A store that cannot tell an alias fails closed (503 `RATE_LIMIT_UNAVAILABLE`).
 */
async function getLoginAccountBucket(event: H3Event, provider: Required<PasswordIdentityProviderDefinition>, username: string): Promise<LoginAccountBucket> {
  let account: string
  try {
    account = await provider.canonicalUsername(username, event)
  }
  catch {
    throw createError({ statusCode: 503, statusMessage: 'Service unavailable', data: { code: 'RATE_LIMIT_UNAVAILABLE' } })
  }
  if (typeof account !== 'string' || !account) account = username
  return { account, device: await getLoginDevice(event, account) }
}

/**
 * Answers a failed HTML-form login with a 303 back to the login page carrying a stable error code
 * (and the retry delay for rate limiting), so the page can explain it without JavaScript.
 * @param event the request
 * @param error what went wrong
 * @param redirect the form's requested redirect, passed through when safe
 * @param username the submitted username, kept so the form can show it again (never the password)
 */
export async function sendLoginFormFailure(event: H3Event, error: unknown, redirect?: string, username?: string) {
  const { auth } = useGatewayConfig(event)
  const data = (error as { data?: { code?: string, retryAfter?: number } }).data ?? {}
  const query = new URLSearchParams({ error: data.code ?? 'LOGIN_FAILED' })
  traceGatewayRefusal(event, data.code ?? 'LOGIN_FAILED')
  if (data.retryAfter) query.set('retryAfter', String(data.retryAfter))
  const safe = getSafeRedirectPath(redirect, '')
  if (safe) query.set('redirect', safe)
  // A username no account can have (control or invisible characters) is not worth keeping in the form.
  if (username && data.code !== 'INVALID_USERNAME') query.set('username', username.slice(0, 256))
  return sendRedirect(event, `${getSafeRedirectPath(auth.loginPage)}?${query}`, 303)
}
