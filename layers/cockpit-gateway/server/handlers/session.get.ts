import type { UserSessionRequired } from '#auth-utils'
import { getGatewaySession } from '../session/gateway-session'
import { getGatewayFormToken } from '../forms/gateway-form-token'

/**
 * `GET /api/_auth/session`: the session as the app sees it, after every server-side check, with the
 * session's form token for HTML form posts (see `getGatewayFormToken`). Without a
 * session cookie it costs nothing (no unseal, no seal, no Set-Cookie); internal ids never leave.
 */
export default defineEventHandler(async (event) => {
  const session = await getGatewaySession(event)
  if (!session) return {}
  // The form token goes only to this same-origin JSON read (and from there into per-request pages' forms):
  // prerendering has no session, so no prerendered file can hold one.
  const data = { user: session.user, loggedInAt: session.loggedInAt, lastSeenAt: session.lastSeenAt, formToken: await getGatewayFormToken(event) }
  // nuxt-auth-utils' `fetch` hook still runs for apps that extend the session response.
  await sessionHooks.callHookParallel('fetch', data as UserSessionRequired, event)
  return data
})
