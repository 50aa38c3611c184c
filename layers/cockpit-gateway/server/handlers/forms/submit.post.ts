import { formParamsSchema } from '../../../shared/internal/cockpit-form-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitForm } from '../../submissions/registry'
import { submitCockpitForm } from '../../submissions/submit'

/**
 * `POST {prefix}/forms/:name`: an anonymous visitor's submission of a declared public form (same origin:
 * the guard). JSON → 201 `{ ok: true }`; urlencoded → 303. There is no GET: submissions are never read back.
 */
export default defineEventHandler(async (event) => {
  const { name } = readGatewayParams(event, formParamsSchema)
  const form = requireCockpitForm(name)
  return submitCockpitForm(event, form)
})
