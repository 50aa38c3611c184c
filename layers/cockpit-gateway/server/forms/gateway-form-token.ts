import { createError } from 'h3'
import type { H3Event } from 'h3'
import { getGatewaySession } from '../session/gateway-session'
import { signWithSessionPassword, timingSafeEqualStrings } from '../session/session-mac'

/** Name of the hidden field that carries the token in the gateway's HTML forms. */
export const GATEWAY_FORM_TOKEN_FIELD = '_csrf'

// Domain separation: the session password also seals cookies; this MAC must never be mistaken for anything else.
const TOKEN_CONTEXT = 'cockpit-gateway:form-token:v1:'
function computeToken(event: H3Event, sid: string): Promise<string> {
  return signWithSessionPassword(event, `${TOKEN_CONTEXT}${sid}`)
}

/**
 * The synchronizer token for HTML form posts of this session: an HMAC of the session's random `sid`
 * under the session password, so it needs no storage, changes with every login and dies with the session.
 * `null` without a valid session. Render it only into per-request pages, never into prerendered HTML.
 * @param event the request
 * @example `<input type="hidden" name="_csrf" :value="formToken">`
 * @public
 */
export async function getGatewayFormToken(event: H3Event): Promise<string | null> {
  const session = await getGatewaySession(event)
  return session ? computeToken(event, session.sid) : null
}

/**
 * Checks a form's token against the current session: 401 (`UNAUTHORIZED` / `SESSION_EXPIRED`) without a
 * valid session, 403 `CSRF_TOKEN_INVALID` when the token is missing or belongs to another session.
 * @param event the request
 * @param token the submitted token
 * @public
 */
export async function requireGatewayFormToken(event: H3Event, token: unknown): Promise<void> {
  const session = await getGatewaySession(event)
  if (!session) {
    const code = event.context.cockpitGatewaySessionEnded ? 'SESSION_EXPIRED' : 'UNAUTHORIZED'
    throw createError({ statusCode: 401, statusMessage: 'Unauthorized', data: { code } })
  }
  const expected = await computeToken(event, session.sid)
  if (typeof token !== 'string' || !timingSafeEqualStrings(token, expected)) {
    throw createError({ statusCode: 403, statusMessage: 'Form token invalid', data: { code: 'CSRF_TOKEN_INVALID' } })
  }
}
