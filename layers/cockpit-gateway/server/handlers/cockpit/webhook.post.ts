import { z } from 'zod'
import { invalidateFromWebhook, requireWebhookSecret } from '../../content/gateway-webhook'
import { readGatewayBody } from '../../guards/gateway-body'
import { cockpitNameSchema } from '../../../shared/internal/cockpit-params'

const name = cockpitNameSchema.optional()

/** Body Cockpit's webhook sends; only the model (or v1 collection / singleton) name is used, everything else is ignored. */
const webhookSchema = z.object({ model: name, collection: name, singleton: name }).loose()

export default defineEventHandler(async (event) => {
  requireWebhookSecret(event)
  const { data } = await readGatewayBody(event, webhookSchema)
  return invalidateFromWebhook(data.model ?? data.collection ?? data.singleton)
})
