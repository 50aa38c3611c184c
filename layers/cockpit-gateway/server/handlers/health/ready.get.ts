import { setResponseStatus } from 'h3'
import { isGatewayReady } from '../../health/gateway-health'

// Readiness: Cockpit and (when configured) Redis answer. The body says nothing more than up or down:
// no host, no error text.
export default defineEventHandler(async (event) => {
  if (await isGatewayReady(event)) return { status: 'ok' }
  setResponseStatus(event, 503)
  return { status: 'unavailable' }
})
