import { readLogoutFormTarget } from '../../forms/logout-form'
import { endGatewaySession } from '../../session/gateway-session'

export default defineEventHandler(async (event) => {
  // An HTML form post (no JavaScript) is sent on to a same-site page; JSON callers get 204.
  const target = await readLogoutFormTarget(event)
  await endGatewaySession(event)
  if (target) return sendRedirect(event, target, 303)
  setResponseStatus(event, 204)
  return null
})
