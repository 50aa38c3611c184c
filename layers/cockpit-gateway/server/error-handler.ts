import { getRequestURL, getResponseHeader, send, setResponseHeader, setResponseHeaders, setResponseStatus } from 'h3'
import type { H3Error, H3Event } from 'h3'
import { isGatewayPath } from './guards/gateway-paths'

/** Keys of `error.data` that may reach a client; anything else (upstream bodies, input echoes) is dropped. */
const PUBLIC_DATA_KEYS = ['code', 'issues', 'retryAfter'] as const

/**
 * Answers errors on the gateway's routes with one JSON shape, `{ statusCode, statusMessage, data }`, and
 * no stack, URL or upstream body; logs unexpected errors as one line without a stack. Other paths fall
 * through to Nuxt's own handler.
 */
export default async function cockpitGatewayErrorHandler(error: H3Error<Record<string, unknown> | undefined>, event: H3Event) {
  if (event.handled || !isGatewayPath(event)) return
  const unexpected = error.unhandled || error.fatal || !error.statusCode || (error.statusCode >= 500 && !error.data?.code)
  const statusCode = unexpected ? 500 : error.statusCode
  // Only the gateway's own errors (with a code) keep their message: others may echo input (Nuxt's "Page not found: /path").
  const statusMessage = unexpected ? 'Internal error' : error.data?.code ? (error.statusMessage || 'Error') : defaultMessageFor(statusCode)
  const data: Record<string, unknown> = {}
  if (unexpected) {
    data.code = 'INTERNAL_ERROR'
    const cause = error.cause instanceof Error ? error.cause.name : 'Error'
    console.error(`[cockpit-gateway] unexpected ${cause} on ${event.method} ${getRequestURL(event).pathname}`)
  }
  else {
    for (const key of PUBLIC_DATA_KEYS) {
      if (error.data?.[key] !== undefined) data[key] = error.data[key]
    }
    data.code ??= defaultCodeFor(statusCode)
    // Errors that say when to come back carry it in `data`; the header follows unless the thrower set one.
    const retryAfter = data.retryAfter
    if (typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter > 0 && !getResponseHeader(event, 'retry-after')) {
      setResponseHeader(event, 'retry-after', retryAfter)
    }
  }
  setResponseHeaders(event, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'default-src \'none\'; frame-ancestors \'none\'',
  })
  setResponseStatus(event, statusCode, statusMessage)
  return send(event, JSON.stringify({ statusCode, statusMessage, data }))
}

function defaultCodeFor(statusCode: number): string {
  switch (statusCode) {
    case 400: return 'BAD_REQUEST'
    case 401: return 'UNAUTHORIZED'
    case 403: return 'FORBIDDEN'
    case 404: return 'NOT_FOUND'
    case 405: return 'METHOD_NOT_ALLOWED'
    case 413: return 'PAYLOAD_TOO_LARGE'
    case 415: return 'UNSUPPORTED_MEDIA_TYPE'
    case 422: return 'VALIDATION_FAILED'
    case 429: return 'RATE_LIMITED'
    default: return 'ERROR'
  }
}

function defaultMessageFor(statusCode: number): string {
  switch (statusCode) {
    case 400: return 'Bad request'
    case 401: return 'Unauthorized'
    case 403: return 'Forbidden'
    case 404: return 'Not found'
    case 405: return 'Method not allowed'
    case 413: return 'Payload too large'
    case 415: return 'Unsupported media type'
    case 422: return 'Validation failed'
    case 429: return 'Too many requests'
    default: return 'Error'
  }
}
