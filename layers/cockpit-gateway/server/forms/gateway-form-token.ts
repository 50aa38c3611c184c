import { createError } from 'h3'
import type { H3Event } from 'h3'
import { useRuntimeConfig } from 'nitropack/runtime'
import { getGatewaySession } from '../session/gateway-session'

/** Name of the hidden field that carries the token in the gateway's HTML forms. */
export const GATEWAY_FORM_TOKEN_FIELD = '_csrf'

// Domain separation: the session password also seals cookies; this MAC must never be mistaken for anything else.
const TOKEN_CONTEXT = 'cockpit-gateway:form-token:v1:'
const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

function getHmacKey(password: string): Promise<CryptoKey> {
  let key = keys.get(password)
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(password), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    // One password per process in practice; the map only avoids re-importing it on every form.
    keys.clear()
    keys.set(password, key)
  }
  return key
}

function toBase64Url(bytes: ArrayBuffer): string {
  let binary = ''
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

async function computeToken(event: H3Event, sid: string): Promise<string> {
  const password = useRuntimeConfig(event).session.password as string
  const mac = await crypto.subtle.sign('HMAC', await getHmacKey(password), encoder.encode(`${TOKEN_CONTEXT}${sid}`))
  return toBase64Url(mac)
}

/** Compares without an early exit, so the time taken says nothing about how much of a guess was right. */
function equalTokens(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
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
  if (typeof token !== 'string' || !equalTokens(token, expected)) {
    throw createError({ statusCode: 403, statusMessage: 'Form token invalid', data: { code: 'CSRF_TOKEN_INVALID' } })
  }
}
