import { endGatewaySession } from '../session/gateway-session'

/** `DELETE /api/_auth/session` (nuxt-auth-utils' `clear()`): ends and revokes this session, like `POST /api/auth/logout`. */
export default defineEventHandler(async (event) => {
  await endGatewaySession(event)
  return { loggedOut: true }
})
