import { createError, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import { useGatewayConfig } from '../config/gateway-config'
import { signWithSessionPassword, timingSafeEqualStrings, toBase64Url } from '../session/session-mac'

// Domain separation: the session password also seals cookies and keys the session form token; a form
// submission token must never verify as either of them (or for another form).
const TOKEN_CONTEXT = 'cockpit-gateway:submission-token:v1:'
function sign(event: H3Event, form: string, issuedAt: string, nonce: string): Promise<string> {
  return signWithSessionPassword(event, `${TOKEN_CONTEXT}${form}.${issuedAt}.${nonce}`)
}

/** A token as the page receives it. */
export interface FormSubmissionToken {
  token: string
  /** Seconds the visitor must wait before sending. */
  minSubmitTime: number
  /** When the token stops being accepted, ms since the epoch. */
  expiresAt: number
}

/**
 * Issues a token for one form: `<issued at, ms, base 36>.<random nonce>.<HMAC of form, time and nonce>` under
 * a key derived from the session password. It is not tied to a session or a visitor (prerendered pages and
 * anonymous visitors need it), holds nothing secret, and needs no storage.
 * @param event the request
 * @param form the declared form's name
 */
export async function issueFormSubmissionToken(event: H3Event, form: string): Promise<FormSubmissionToken> {
  const { forms } = useGatewayConfig(event)
  const now = Date.now()
  const issuedAt = now.toString(36)
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(12)))
  return {
    token: `${issuedAt}.${nonce}.${await sign(event, form, issuedAt, nonce)}`,
    minSubmitTime: forms.minSubmitTime,
    expiresAt: now + forms.tokenMaxAge * 1000,
  }
}

function refuse(statusCode: number, statusMessage: string, code: string, retryAfter?: number): never {
  throw createError({ statusCode, statusMessage, data: retryAfter === undefined ? { code } : { code, retryAfter } })
}

/**
 * Checks a submission's token: 403 `FORM_TOKEN_INVALID` when missing, malformed, forged or for another form;
 * 403 `FORM_TOKEN_EXPIRED` when older than `forms.tokenMaxAge`; 429 `FORM_TOO_FAST` (with `Retry-After`) when
 * sent sooner than `forms.minSubmitTime` after it was issued. A token may be used more than once while it is
 * valid: the per-IP and per-form rate limits bound that, with no store round trip per submission.
 * @param event the request
 * @param form the declared form's name
 * @param token the submitted token
 */
export async function requireFormSubmissionToken(event: H3Event, form: string, token: unknown): Promise<void> {
  const parts = typeof token === 'string' && token.length <= 128 ? token.split('.') : []
  const [issuedAt = '', nonce = '', mac = ''] = parts
  if (parts.length !== 3 || !/^[0-9a-z]{1,11}$/.test(issuedAt) || !/^[\w-]{16}$/.test(nonce) || !timingSafeEqualStrings(mac, await sign(event, form, issuedAt, nonce))) {
    refuse(403, 'Form token invalid', 'FORM_TOKEN_INVALID')
  }
  const { forms } = useGatewayConfig(event)
  const age = Date.now() - Number.parseInt(issuedAt, 36)
  if (age > forms.tokenMaxAge * 1000) refuse(403, 'Form token expired', 'FORM_TOKEN_EXPIRED')
  const wait = forms.minSubmitTime * 1000 - age
  if (wait > 0) {
    const retryAfter = Math.ceil(wait / 1000)
    setResponseHeader(event, 'retry-after', retryAfter)
    refuse(429, 'Form sent too fast', 'FORM_TOO_FAST', retryAfter)
  }
}
