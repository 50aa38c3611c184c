import { createError, getCookie } from 'h3'
import type { H3Event } from 'h3'
import type { User, UserSession } from '#auth-utils'
import { useRuntimeConfig } from 'nitropack/runtime'
import { useGatewayConfig } from './gateway-config'
import { useGatewayStorage } from './gateway-storage'

/** What the state store keeps per user: the revocation version and revoked single sessions (sid → expiry ms). */
interface UserSessionState {
  version: number
  revoked?: Record<string, number>
}

/** A session that can't be checked is neither accepted nor thrown away: 503 `SESSION_STORE_UNAVAILABLE`. */
function sessionStoreUnavailable() {
  return createError({ statusCode: 503, statusMessage: 'Session store unavailable', data: { code: 'SESSION_STORE_UNAVAILABLE' } })
}

async function writeUserState(userId: string, state: UserSessionState): Promise<void> {
  try {
    // No TTL: the version must outlive every cookie, or an old one would match again.
    await useGatewayStorage('state').setItem(stateKey(userId), state)
  }
  catch {
    throw sessionStoreUnavailable()
  }
}

/** A session that passed every server-side check. */
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

/** The user's revocation state; a store failure is a 503 (see {@link sessionStoreUnavailable}). */
async function readUserState(userId: string): Promise<UserSessionState> {
  try {
    return (await useGatewayStorage('state').getItem<UserSessionState>(stateKey(userId))) ?? { version: 0 }
  }
  catch {
    throw sessionStoreUnavailable()
  }
}

function sessionCookieName(event: H3Event): string {
  return useRuntimeConfig(event).session.name as string
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
 * Cost: nothing at all without a session cookie; one unseal and one state read with one; a reseal only
 * when `lastSeenAt` is older than the refresh interval, so the common request never reseals.
 * @param event the request
 */
export async function getGatewaySession(event: H3Event): Promise<GatewaySession | null> {
  if (CONTEXT_KEY in event.context) return event.context[CONTEXT_KEY] as GatewaySession | null
  const session = await readValidSession(event)
  event.context[CONTEXT_KEY] = session
  return session
}

async function readValidSession(event: H3Event): Promise<GatewaySession | null> {
  if (!getCookie(event, sessionCookieName(event))) return null
  const session = await getUserSession(event)
  if (!isComplete(session)) {
    await clearUserSession(event)
    event.context.cockpitGatewaySessionEnded = true
    return null
  }
  const { auth } = useGatewayConfig(event)
  const now = Date.now()
  const expired = now - session.loggedInAt > auth.maxAge * 1000 || now - session.lastSeenAt > auth.idleTimeout * 1000
  const state = expired ? null : await readUserState(session.user.id)
  if (!state || state.version !== session.version || state.revoked?.[session.sid]) {
    await clearUserSession(event)
    event.context.cockpitGatewaySessionEnded = true
    return null
  }
  const refreshAfter = Math.min(auth.refreshInterval, auth.idleTimeout / 4) * 1000
  if (now - session.lastSeenAt > refreshAfter) {
    await setUserSession(event, { lastSeenAt: now })
    session.lastSeenAt = now
  }
  return { user: session.user, loggedInAt: session.loggedInAt, lastSeenAt: session.lastSeenAt, version: session.version, sid: session.sid }
}

/**
 * The current valid session, or a 401 (`SESSION_EXPIRED` when a cookie was sent but failed a check,
 * `UNAUTHORIZED` otherwise).
 * @param event the request
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
 * with the user's current revocation version.
 * @param event the request
 * @param user the authenticated user
 */
export async function startGatewaySession(event: H3Event, user: User): Promise<GatewaySession> {
  const { version } = await readUserState(user.id)
  await clearUserSession(event)
  // h3 would otherwise re-read the request's old cookie and keep its id and creation time.
  const sessions = (event.context.sessions ??= Object.create(null)) as Record<string, unknown>
  sessions[sessionCookieName(event)] = { id: crypto.randomUUID(), createdAt: Date.now(), data: Object.create(null) }
  const now = Date.now()
  const session: GatewaySession = { user: { id: user.id, name: user.name, role: user.role }, loggedInAt: now, lastSeenAt: now, version, sid: crypto.randomUUID() }
  await setUserSession(event, { ...session })
  event.context[CONTEXT_KEY] = session
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
    const state = await readUserState(session.user.id)
    const now = Date.now()
    const revoked = Object.fromEntries(Object.entries(state.revoked ?? {}).filter(([, expiresAt]) => expiresAt > now))
    revoked[session.sid] = session.loggedInAt + auth.maxAge * 1000
    await writeUserState(session.user.id, { version: state.version, revoked })
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
  const state = await readUserState(userId)
  await writeUserState(userId, { version: state.version + 1 })
  await clearUserSession(event)
  event.context[CONTEXT_KEY] = null
}
