import { z } from 'zod'
import { invalidateFromWebhook, requireWebhookSecret } from '../../content/gateway-webhook'
import { readGatewayBody } from '../../guards/gateway-body'

/** Body Cockpit's webhook sends; only the model name is used, everything else is ignored. */
const webhookSchema = z.object({ model: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(), collection: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() }).loose()

export default defineEventHandler(async (event) => {
  requireWebhookSecret(event)
  const { data } = await readGatewayBody(event, webhookSchema)
  return invalidateFromWebhook(data.model ?? data.collection)
})
