import { getRequestHeader, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'

/** What the gateway learns about one request as it runs, for the `X-Request-Id` and the audit record. */
export interface GatewayRequestTrace {
  /** The caller's valid `X-Request-Id`, or a fresh UUID. Sent back, and to Cockpit on every call. */
  requestId: string
  startedAt: number
  /** The session user, once known (a valid cookie, or a login that just worked). */
  user?: { id: string, role: string }
  /** Status of the last upstream call, when there was one (never its body). */
  upstreamStatus?: number
  /** Time spent in upstream calls, ms. */
  upstreamMs?: number
  /** The stable code of a refusal that did not throw (a form answered with a 303 carrying `?error=`). */
  code?: string
  /** Set once the request's audit record was made, so an error and the response never make two. */
  audited?: boolean
}

declare module 'h3' {
  interface H3EventContext {
    cockpitGatewayTrace?: GatewayRequestTrace
  }
}

// Printable ASCII without spaces, as tracing systems send (UUIDs, W3C trace ids, ULIDs); anything else is replaced.
const VALID_REQUEST_ID = /^[\x21-\x7E]{1,128}$/

/**
 * Starts the trace of a gateway request: keeps a valid incoming `X-Request-Id` or makes one, and answers with it.
 * @param event the request
 */
export function startGatewayRequestTrace(event: H3Event): GatewayRequestTrace {
  const incoming = getRequestHeader(event, 'x-request-id')
  const requestId = incoming && VALID_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID()
  const trace: GatewayRequestTrace = { requestId, startedAt: Date.now() }
  event.context.cockpitGatewayTrace = trace
  setResponseHeader(event, 'x-request-id', requestId)
  return trace
}

/**
 * The request's trace, when it is a gateway request.
 * @param event the request
 */
export function getGatewayRequestTrace(event: H3Event): GatewayRequestTrace | undefined {
  return event.context.cockpitGatewayTrace
}

/**
 * Records the session user on the trace (sessions call this when they find or start one).
 * @param event the request
 * @param user the session user
 * @param user.id the user's id
 * @param user.role the user's gateway role
 */
export function traceGatewayUser(event: H3Event, user: { id: string, role: string }): void {
  const trace = event.context.cockpitGatewayTrace
  if (trace) trace.user = { id: user.id, role: user.role }
}

/**
 * Records the stable code of a refusal answered without an error (a 303 back to a form).
 * @param event the request
 * @param code the stable code
 */
export function traceGatewayRefusal(event: H3Event, code: string): void {
  const trace = event.context.cockpitGatewayTrace
  if (trace) trace.code = code
}
