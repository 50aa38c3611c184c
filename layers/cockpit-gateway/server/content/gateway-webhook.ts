import { createError, getRequestHeader } from 'h3'
import type { H3Event } from 'h3'
import { getCockpitModel, listCockpitModelNames } from './cockpit-models'
import { invalidateCockpitModelCache } from '../cache/cockpit-cache'
import { useGatewayConfig } from '../config/gateway-config'
import { getCockpitSingleton, listCockpitSingletonNames } from './singleton-registry'
import { timingSafeEqualStrings } from '../session/session-mac'

/**
 * Checks the webhook's shared secret (`X-Cockpit-Gateway-Secret` header or `Authorization: Bearer`),
 * timing-safe; 404 when no secret is configured (the route doesn't exist then), 401 otherwise.
 * @param event the request
 */
export function requireWebhookSecret(event: H3Event): void {
  const { webhookSecret } = useGatewayConfig(event)
  if (!webhookSecret) throw createError({ statusCode: 404, statusMessage: 'Not found', data: { code: 'NOT_FOUND' } })
  const sent = getRequestHeader(event, 'x-cockpit-gateway-secret') ?? getRequestHeader(event, 'authorization')?.replace(/^Bearer\s+/i, '') ?? ''
  if (!timingSafeEqualStrings(sent, webhookSecret)) throw createError({ statusCode: 401, statusMessage: 'Unauthorized', data: { code: 'UNAUTHORIZED' } })
}

/**
 * Invalidates the cached reads of the model or singleton the webhook names, or of every declared model and
 * singleton when it names none.
 * @param model model or singleton name from the webhook body
 */
export async function invalidateFromWebhook(model: string | undefined): Promise<{ invalidated: string[] }> {
  const names = model ? [model] : [...listCockpitModelNames(), ...listCockpitSingletonNames()]
  const declared = names.filter(name => getCockpitModel(name) || getCockpitSingleton(name))
  await Promise.all(declared.map(name => invalidateCockpitModelCache(name)))
  return { invalidated: declared }
}
