import { createError, getRequestHeader, getRequestURL } from 'h3'
import type { H3Event } from 'h3'
import { getGatewayBodyKind } from './gateway-body'
import { useGatewayConfig } from '../config/gateway-config'

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

function forbidden(code: string): never {
  throw createError({ statusCode: 403, statusMessage: 'Cross-site request refused', data: { code } })
}

/**
 * CSRF defence for a state-changing request, with no token (so it works on prerendered pages):
 * 1. it must come from an allowed origin: `Origin` equal to the request's own origin or one of
 *    `siteOrigins`, or, without `Origin`, `Sec-Fetch-Site: same-origin`; a request with neither is
 *    refused, since every browser sends one of them;
 * 2. a POST/PUT/PATCH must be JSON (which a cross-site page cannot send without a CORS preflight),
 *    unless `allowForm` (the HTML login form, protected by rule 1 alone). DELETE is never a "simple"
 *    method, so a browser preflights it cross-site anyway.
 * @param event the request
 * @param allowForm accept `application/x-www-form-urlencoded` here
 * @public
 */
export function requireSameOriginRequest(event: H3Event, allowForm = false): void {
  if (!STATE_CHANGING.has(event.method)) return
  const config = useGatewayConfig(event)
  const origin = getRequestHeader(event, 'origin')
  if (origin) {
    const trusted = config.trustProxy !== false
    const own = getRequestURL(event, { xForwardedHost: trusted, xForwardedProto: trusted }).origin
    if (origin !== own && !config.siteOrigins.includes(origin)) forbidden('ORIGIN_MISMATCH')
  }
  else {
    const site = getRequestHeader(event, 'sec-fetch-site')
    if (!site) forbidden('ORIGIN_REQUIRED')
    if (site !== 'same-origin') forbidden('ORIGIN_MISMATCH')
  }
  if (event.method === 'DELETE') return
  const kind = getGatewayBodyKind(event)
  if (kind !== 'json' && !(allowForm && kind === 'form')) {
    throw createError({ statusCode: 415, statusMessage: 'Unsupported media type', data: { code: 'UNSUPPORTED_MEDIA_TYPE' } })
  }
}
