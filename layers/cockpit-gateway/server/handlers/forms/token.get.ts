import { formParamsSchema } from '../../../shared/internal/cockpit-form-params'
import { getGatewayClientIp } from '../../client-address/client-ip'
import { useGatewayConfig } from '../../config/gateway-config'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireRateLimit } from '../../rate-limit/gateway-rate-limit'
import { requireCockpitForm } from '../../submissions/registry'
import { issueFormSubmissionToken } from '../../submissions/token'

/**
 * `GET {prefix}/forms/:name/token`: a fresh submission token for a declared form, `{ token, minSubmitTime,
 * expiresAt }`, never cached (the guard's `no-store`). Counted like a read, per client IP.
 */
export default defineEventHandler(async (event) => {
  const { name } = readGatewayParams(event, formParamsSchema)
  const form = requireCockpitForm(name)
  await requireRateLimit(event, 'read', getGatewayClientIp(event, useGatewayConfig(event).trustProxy))
  return issueFormSubmissionToken(event, form.name)
})
