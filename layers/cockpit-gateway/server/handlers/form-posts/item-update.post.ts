import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { coerceFormFields, isFormPostFailure, readGatewayFormBody, sendFormFailure, sendFormSuccess, readFormWriteGuards } from '../../forms/form-post'
import { requireGatewayFormToken, GATEWAY_FORM_TOKEN_FIELD } from '../../forms/gateway-form-token'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { runCockpitItemWrite } from '../../writes/item-write'

/**
 * `POST {prefix}/form-posts/:model/:id/update`: the HTML form twin of `PATCH items/:model/:id`. Same-origin
 * (guard) plus the session's form token; then the same update as the JSON route.
 */
export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  const declared = requireCockpitModel(model)
  const body = await readGatewayFormBody(event)
  try {
    await requireGatewayFormToken(event, body[GATEWAY_FORM_TOKEN_FIELD])
    await runCockpitItemWrite(event, declared, { action: 'update', id, body: coerceFormFields(declared, body), ...readFormWriteGuards(body) })
    return sendFormSuccess(event, body, '/', id)
  }
  catch (error) {
    if (!isFormPostFailure(error)) throw error
    return sendFormFailure(event, body, error, '/', declared)
  }
})
