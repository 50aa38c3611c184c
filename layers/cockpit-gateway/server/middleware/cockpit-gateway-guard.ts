import { setResponseHeaders } from 'h3'
import { requireSameOriginRequest } from '../guards/gateway-origin'
import { getGatewayPathname, getGatewayRoutePrefixes, isGatewayPath } from '../guards/gateway-paths'
import { isGatewayFormPath } from '../forms/gateway-form-paths'
import { startGatewayRequestTrace } from '../audit/request-trace'

export default defineEventHandler((event) => {
  if (!isGatewayPath(event)) return
  startGatewayRequestTrace(event)
  setResponseHeaders(event, {
    // Nothing the gateway answers may be stored by a browser or a shared cache unless a handler says so.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'default-src \'none\'; frame-ancestors \'none\'',
    'referrer-policy': 'no-referrer',
  })
  const pathname = getGatewayPathname(event)
  const { prefix, authPrefix } = getGatewayRoutePrefixes(event)
  // The webhook is server-to-server (no Origin) and authenticated by its shared secret instead.
  if (pathname === `${prefix}/webhook`) return
  // The HTML forms (login, logout, and the form-post twins of the writes, which also check a session
  // token) may be urlencoded; everything else must be JSON.
  requireSameOriginRequest(event, isGatewayFormPath(pathname, { prefix, authPrefix }))
})
