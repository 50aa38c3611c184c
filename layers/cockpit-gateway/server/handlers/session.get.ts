import type { UserSessionRequired } from '#auth-utils'

/**
 * `GET /api/_auth/session`: the session as the app sees it, after every server-side check. Without a
 * session cookie it costs nothing (no unseal, no seal, no Set-Cookie); internal ids never leave.
 */
export default defineEventHandler(async (event) => {
  const session = await getGatewaySession(event)
  if (!session) return {}
  const data = { user: session.user, loggedInAt: session.loggedInAt, lastSeenAt: session.lastSeenAt }
  // nuxt-auth-utils' `fetch` hook still runs for apps that extend the session response.
  await sessionHooks.callHookParallel('fetch', data as UserSessionRequired, event)
  return data
})
