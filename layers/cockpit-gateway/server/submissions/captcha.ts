import { createError } from 'h3'
import type { H3Event } from 'h3'
import { getGatewayClientIp } from '../client-address/client-ip'
import { useGatewayConfig } from '../config/gateway-config'

function refuse(statusCode: number, statusMessage: string, code: string): never {
  throw createError({ statusCode, statusMessage, data: { code } })
}

/**
 * Checks the captcha response of a submission with the configured `siteverify` service (Turnstile and hCaptcha
 * shape: POST urlencoded `secret`, `response`, `remoteip` → `{ success }`). Does nothing when no captcha secret
 * is set. 403 `CAPTCHA_FAILED` for a missing or refused response; 503 `CAPTCHA_UNAVAILABLE` when the verifier
 * cannot be reached, times out or answers something else: the check fails closed.
 * @param event the request
 * @param response the widget's response from the form
 */
export async function requireFormCaptcha(event: H3Event, response: unknown): Promise<void> {
  const config = useGatewayConfig(event)
  const { captcha } = config.forms
  if (!captcha.secret) return
  if (typeof response !== 'string' || response === '' || response.length > 4096) refuse(403, 'Captcha failed', 'CAPTCHA_FAILED')
  let success: unknown
  try {
    const answer = await fetch(captcha.verifyUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept': 'application/json' },
      body: new URLSearchParams({ secret: captcha.secret, response, remoteip: getGatewayClientIp(event, config.trustProxy) }),
      redirect: 'error',
      signal: AbortSignal.timeout(captcha.timeout),
    })
    if (!answer.ok) throw new Error('status')
    success = ((await answer.json()) as { success?: unknown } | null)?.success
  }
  catch {
    // Neither the verifier's URL nor its answer goes into the log: the URL may carry a secret of its own.
    console.error('[cockpit-gateway] captcha verifier unavailable; form submissions refused until it answers')
    refuse(503, 'Captcha check unavailable', 'CAPTCHA_UNAVAILABLE')
  }
  if (success !== true) refuse(403, 'Captcha failed', 'CAPTCHA_FAILED')
}
