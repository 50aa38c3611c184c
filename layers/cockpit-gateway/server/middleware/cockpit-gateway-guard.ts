import { setResponseHeaders } from 'h3'

/** Paths that take an HTML form post, and server-to-server paths authenticated otherwise (no Origin). */
const FORM_PATHS = new Set(['/api/auth/login'])
const SERVER_TO_SERVER_PATHS = new Set(['/api/cockpit/webhook'])

export default defineEventHandler((event) => {
  if (!isGatewayPath(event.path)) return
  setResponseHeaders(event, {
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'default-src \'none\'; frame-ancestors \'none\'',
    'referrer-policy': 'no-referrer',
  })
  const pathname = event.path.split('?', 1)[0]!
  if (SERVER_TO_SERVER_PATHS.has(pathname)) return
  requireSameOriginRequest(event, FORM_PATHS.has(pathname))
})
