/**
 * `GET /api/_auth/session` (nuxt-auth-utils) answers with what the server-side checks accept: an
 * expired, idle, revoked or tampered session reads as logged out, and internal ids never leave.
 */
export default defineNitroPlugin(() => {
  sessionHooks.hook('fetch', async (session, event) => {
    const valid = await getGatewaySession(event)
    for (const key of Object.keys(session)) delete (session as Record<string, unknown>)[key]
    if (valid) Object.assign(session, { user: valid.user, loggedInAt: valid.loggedInAt, lastSeenAt: valid.lastSeenAt })
  })
})
