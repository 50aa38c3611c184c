import { readLogoutFormTarget } from '../../forms/logout-form'
import { getGatewaySession, requireGatewaySession, revokeAllGatewaySessions } from '../../session/gateway-session'

export default defineEventHandler(async (event) => {
  // An HTML form post (no JavaScript) is sent on to a same-site page; JSON callers get 204.
  const target = await readLogoutFormTarget(event)
  const session = await getGatewaySession(event)
  // A form post without a session has nothing left to end: the browser is logged out already.
  if (!session && target) return sendRedirect(event, target, 303)
  const { user } = session ?? await requireGatewaySession(event)
  await revokeAllGatewaySessions(event, user.id)
  if (target) return sendRedirect(event, target, 303)
  setResponseStatus(event, 204)
  return null
})
