import { createError, getCookie, unsealSession } from 'h3'
import type { H3Event, SessionConfig } from 'h3'
import type { User, UserSession } from '#auth-utils'
import { defu } from 'defu'
import { LRUCache } from 'lru-cache'
import { useGatewayConfig, useGatewayRuntimeConfig } from '../config/gateway-config'
import { useGatewayStorage } from '../storage/gateway-storage'
import { readStateStoreEpoch } from './gateway-state-epoch'
import { traceGatewayUser } from '../audit/request-trace'

/** What the state store keeps per user: the revocation version and revoked single sessions (sid → expiry ms). */
interface UserSessionState {
  version: number
  revoked?: Record<string, number>
}

/** A session that can't be checked is neither accepted nor thrown away: 503 `SESSION_STORE_UNAVAILABLE`. */
function sessionStoreUnavailable() {
  return createError({ statusCode: 503, statusMessage: 'Session store unavailable', data: { code: 'SESSION_STORE_UNAVAILABLE' } })
}

/**
 * A session that passed every server-side check.
 * @public
 */
export interface GatewaySession {
  user: User
  loggedInAt: number
  lastSeenAt: number
  version: number
  sid: string
}

const CONTEXT_KEY = 'cockpitGatewaySession'

function stateKey(userId: string): string {
  return `sessions:${encodeURIComponent(userId)}`
}

/** A user's revocation state with the state store's epoch, as read at `checkedAt`. */
interface CheckedUserState {
  state: UserSessionState
  /** The state store's epoch (see gateway-state-epoch): a session issued under another one is refused. */
  epoch: string
  checkedAt: number
  /** Order of reads and writes on this instance. */
  seq: number
}

// Revocation state, read through an in-process cache: a check at most once per `revocationCheckInterval`
// per user and instance (one read for a burst, not one per request). What this instance writes is seen at
// once; what another instance writes (logout elsewhere) within that interval, at most 1 s by config.
// `seq` orders reads and writes: a read that started before this instance's own write ended must not put
// the older state back.
const stateCache = new LRUCache<string, CheckedUserState>({ max: 10_000 })
const stateReads = new Map<string, Promise<CheckedUserState>>()
let stateSeq = 0

async function readStoredUserState(userId: string): Promise<CheckedUserState> {
  const seq = ++stateSeq
  try {
    const { value, epoch } = await readStateStoreEpoch<UserSessionState>(stateKey(userId))
    const current = stateCache.get(userId)
    if (current && current.seq > seq) return current
    const checked = { state: value ?? { version: 0 }, epoch, checkedAt: Date.now(), seq }
    stateCache.set(userId, checked)
    return checked
  }
  catch {
    throw sessionStoreUnavailable()
  }
}

/** One store read per user at a time, however many requests ask. */
function readUserStateOnce(userId: string): Promise<CheckedUserState> {
  let read = stateReads.get(userId)
  if (!read) {
    read = readStoredUserState(userId).finally(() => stateReads.delete(userId))
    stateReads.set(userId, read)
  }
  return read
}

/** The user's revocation state, at most `revocationCheckInterval` ms old; a store failure is a 503. */
function readUserState(event: H3Event, userId: string): Promise<CheckedUserState> | CheckedUserState {
  const cached = stateCache.get(userId)
  if (cached && Date.now() - cached.checkedAt < useGatewayConfig(event).auth.revocationCheckInterval) return cached
  return readUserStateOnce(userId)
}

async function writeUserState(userId: string, state: UserSessionState, epoch: string): Promise<void> {
  try {
    // No TTL: the version must outlive every cookie, or an old one would match again.
    await useGatewayStorage('state').setItem(stateKey(userId), state)
  }
  catch {
    stateCache.delete(userId)
    throw sessionStoreUnavailable()
  }
  stateCache.set(userId, { state, epoch, checkedAt: Date.now(), seq: ++stateSeq })
}

/** Whether a session was issued under this version and epoch (its own revocation is checked apart). */
function isCurrent(session: GatewaySession & { epoch?: unknown }, checked: CheckedUserState): boolean {
  return checked.state.version === session.version && checked.epoch === session.epoch
}

/** h3's session as unsealed from a cookie. */
interface UnsealedSession {
  id: string
  createdAt: number
  data: UserSession
}

/** The session config nuxt-auth-utils uses (its password may come from env only), built once per config. */
const sessionConfigs = new WeakMap<object, SessionConfig & { name: string }>()

function getSessionConfig(event: H3Event): SessionConfig & { name: string } {
  const runtimeConfig = useGatewayRuntimeConfig(event)
  let config = sessionConfigs.get(runtimeConfig)
  if (!config) {
    const envPassword = process.env[`${(runtimeConfig.nitro as { envPrefix?: string } | undefined)?.envPrefix || 'NUXT_'}SESSION_PASSWORD`]
    config = defu({ password: envPassword }, runtimeConfig.session) as SessionConfig & { name: string }
    sessionConfigs.set(runtimeConfig, config)
  }
  return config
}

// Verified seals: the same cookie always unseals to the same data, so the unseal (a PBKDF2 derivation,
// an HMAC and an AES decryption in Web Crypto) runs once per cookie, not once per request. Only what
// never changes for a cookie is kept; expiry, idle timeout and revocation are checked on every request.
const verifiedSeals = new LRUCache<string, { session: UnsealedSession, expiresAt: number }>({ max: 10_000 })

// When this instance last resealed a session (sid → ms), so one stale cookie costs one reseal per interval.
const refreshedSessions = new LRUCache<string, number>({ max: 10_000 })

/**
 * A copy of a string cut from a request header. V8 keeps a slice's whole parent alive, so a cached key cut
 * from the Cookie header would keep every other cookie of that request too; join builds a flat string.
 */
function detachedCopy(text: string): string {
  return text.split('').join('')
}

/** When iron says a seal expires (`Fe26.2*…*<expiration ms>*…`), or `Infinity` without one. */
function sealExpiry(sealed: string): number {
  const expiration = Number(sealed.split('*', 6)[5])
  return expiration > 0 ? expiration : Infinity
}

async function unsealCookie(event: H3Event, config: SessionConfig, sealed: string): Promise<UnsealedSession | null> {
  const now = Date.now()
  const cached = verifiedSeals.get(sealed)
  if (cached && cached.expiresAt > now) return cached.session
  let session: UnsealedSession
  try {
    session = await unsealSession(event, config, sealed) as UnsealedSession
  }
  catch {
    return null
  }
  if (!session?.id || typeof session.data !== 'object' || session.data === null) return null
  const expiresAt = Math.min(sealExpiry(sealed), config.maxAge ? session.createdAt + config.maxAge * 1000 : Infinity)
  verifiedSeals.set(detachedCopy(sealed), { session, expiresAt })
  return session
}

function isComplete(session: UserSession): session is UserSession & GatewaySession {
  return !!session.user && typeof session.loggedInAt === 'number' && typeof session.lastSeenAt === 'number'
    && typeof session.version === 'number' && typeof session.sid === 'string'
}

/**
 * The current session after every server-side check (absolute lifetime, idle timeout, revocation), or
 * `null`. Never throws for a bad cookie: an expired, revoked or tampered one is cleared. Throws 503
 * `SESSION_STORE_UNAVAILABLE` only when the revocation store cannot be read.
 *
 * Cost: nothing at all without a session cookie; with one, an unseal the first time a cookie is seen
 * (then a cache lookup), a revocation check at most once per `revocationCheckInterval`, and a reseal only
 * when `lastSeenAt` is older than the refresh interval.
 * @param event the request
 * @public
 */
export async function getGatewaySession(event: H3Event): Promise<GatewaySession | null> {
  if (CONTEXT_KEY in event.context) return event.context[CONTEXT_KEY] as GatewaySession | null
  const session = await readValidSession(event)
  event.context[CONTEXT_KEY] = session
  if (session) traceGatewayUser(event, session.user)
  return session
}

/** Hands h3 the session this request carries, so that nuxt-auth-utils' set/clear never unseal it again. */
function primeRequestSession(event: H3Event, name: string, session: UnsealedSession | null): void {
  const sessions = (event.context.sessions ??= Object.create(null)) as Record<string, unknown>
  sessions[name] = session
    ? { id: session.id, createdAt: session.createdAt, data: { ...session.data } }
    : { id: '', createdAt: 0, data: Object.create(null) }
}

async function endInvalidSession(event: H3Event): Promise<null> {
  await clearUserSession(event)
  event.context.cockpitGatewaySessionEnded = true
  return null
}

async function readValidSession(event: H3Event): Promise<GatewaySession | null> {
  const sessionConfig = getSessionConfig(event)
  const sealed = getCookie(event, sessionConfig.name)
  if (!sealed) return null
  const unsealed = await unsealCookie(event, sessionConfig, sealed)
  primeRequestSession(event, sessionConfig.name, unsealed)
  const session = unsealed?.data
  if (!session || !isComplete(session)) return endInvalidSession(event)
  const { auth } = useGatewayConfig(event)
  const now = Date.now()
  if (now - session.loggedInAt > auth.maxAge * 1000 || now - session.lastSeenAt > auth.idleTimeout * 1000) return endInvalidSession(event)
  let checked = await readUserState(event, session.user.id)
  // A session issued after this instance last looked (a login elsewhere after a logout-everywhere, or after
  // a state loss) may carry a newer version or epoch than the cached one: look again before ending it.
  // Older sessions never cause a re-read, so a replayed revoked cookie costs no store call.
  if (!isCurrent(session, checked) && checked.checkedAt < session.loggedInAt) checked = await readUserStateOnce(session.user.id)
  // No epoch in the cookie (issued before epochs existed) never matches: such sessions end, fail closed.
  if (!isCurrent(session, checked) || checked.state.revoked?.[session.sid]) return endInvalidSession(event)
  let lastSeenAt = session.lastSeenAt
  const refreshAfter = Math.min(auth.refreshInterval, auth.idleTimeout / 4) * 1000
  if (now - lastSeenAt > refreshAfter) {
    // Requests already in flight with the old cookie (or a client that keeps sending it) are not resealed
    // again: this instance sent the fresh cookie a moment ago. The idle check still reads the cookie.
    const refreshed = refreshedSessions.get(session.sid)
    if (refreshed !== undefined && now - refreshed <= refreshAfter) {
      lastSeenAt = refreshed
    }
    else {
      await setUserSession(event, { lastSeenAt: now })
      refreshedSessions.set(session.sid, now)
      lastSeenAt = now
    }
  }
  // A copy: the verified-seal cache shares `session`, and hooks (nuxt-auth-utils' `fetch`) may change what they get.
  return { user: { ...session.user }, loggedInAt: session.loggedInAt, lastSeenAt, version: session.version, sid: session.sid }
}

/**
 * The current valid session, or a 401 (`SESSION_EXPIRED` when a cookie was sent but failed a check,
 * `UNAUTHORIZED` otherwise).
 * @param event the request
 * @public
 */
export async function requireGatewaySession(event: H3Event): Promise<GatewaySession> {
  const session = await getGatewaySession(event)
  if (!session) {
    const code = event.context.cockpitGatewaySessionEnded ? 'SESSION_EXPIRED' : 'UNAUTHORIZED'
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', data: { code } })
  }
  return session
}

/**
 * The current user when it has one of `roles`; 401 without a session, 403 (`FORBIDDEN`) otherwise.
 * @param event the request
 * @param roles gateway roles allowed
 * @example const user = await requireRole(event, 'editor', 'admin')
 * @public
 */
export async function requireRole(event: H3Event, ...roles: string[]): Promise<User> {
  const { user } = await requireGatewaySession(event)
  if (!roles.includes(user.role)) {
    throw createError({ statusCode: 403, statusMessage: 'Forbidden', data: { code: 'FORBIDDEN' } })
  }
  return user
}

/**
 * Starts a fresh session for `user`: a new seal, a new session id and a new sid (no fixation), stamped
 * with the user's current revocation version and the state store's epoch.
 * @param event the request
 * @param user the authenticated user
 * @public
 */
export async function startGatewaySession(event: H3Event, user: User): Promise<GatewaySession> {
  // Fresh, not cached: a logout-everywhere on another instance a moment ago must not stamp a stale version.
  const { state: { version }, epoch } = await readStoredUserState(user.id)
  await clearUserSession(event)
  // h3 would otherwise re-read the request's old cookie and keep its id and creation time.
  const sessions = (event.context.sessions ??= Object.create(null)) as Record<string, unknown>
  sessions[getSessionConfig(event).name] = { id: crypto.randomUUID(), createdAt: Date.now(), data: Object.create(null) }
  const now = Date.now()
  const session: GatewaySession = { user: { id: user.id, name: user.name, role: user.role }, loggedInAt: now, lastSeenAt: now, version, sid: crypto.randomUUID() }
  await setUserSession(event, { ...session, epoch })
  event.context[CONTEXT_KEY] = session
  traceGatewayUser(event, session.user)
  return session
}

/**
 * Ends this session: clears the cookie and revokes its sid until it would have expired anyway, so a
 * copy of the cookie replayed later is refused.
 * @param event the request
 */
export async function endGatewaySession(event: H3Event): Promise<void> {
  const session = await getGatewaySession(event)
  if (session) {
    const { auth } = useGatewayConfig(event)
    const { state, epoch } = await readStoredUserState(session.user.id)
    const now = Date.now()
    const revoked = Object.fromEntries(Object.entries(state.revoked ?? {}).filter(([, expiresAt]) => expiresAt > now))
    revoked[session.sid] = session.loggedInAt + auth.maxAge * 1000
    await writeUserState(session.user.id, { version: state.version, revoked }, epoch)
  }
  await clearUserSession(event)
  event.context[CONTEXT_KEY] = null
}

/**
 * Revokes every session of a user (all browsers): bumps the stored version that cookies must match.
 * @param event the request
 * @param userId the user's id
 */
export async function revokeAllGatewaySessions(event: H3Event, userId: string): Promise<void> {
  const { state, epoch } = await readStoredUserState(userId)
  await writeUserState(userId, { version: state.version + 1 }, epoch)
  await clearUserSession(event)
  event.context[CONTEXT_KEY] = null
}
