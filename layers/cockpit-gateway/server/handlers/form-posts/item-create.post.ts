import { modelParamsSchema } from '../../../shared/internal/cockpit-params'
import { coerceFormFields, isFormPostFailure, readGatewayFormBody, sendFormFailure, sendFormSuccess } from '../../forms/form-post'
import { requireGatewayFormToken, GATEWAY_FORM_TOKEN_FIELD } from '../../forms/gateway-form-token'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { createCockpitItem } from '../../content/cockpit-items'

/**
 * `POST {prefix}/form-posts/:model/create`: the HTML form twin of `POST items/:model`, for browsers without
 * JavaScript. Same-origin (guard) plus the session's form token; then the same create as the JSON route.
 */
export default defineEventHandler(async (event) => {
  const { model } = readGatewayParams(event, modelParamsSchema)
  const declared = requireCockpitModel(model)
  const body = await readGatewayFormBody(event)
  try {
    await requireGatewayFormToken(event, body[GATEWAY_FORM_TOKEN_FIELD])
    const item = await createCockpitItem(event, declared, coerceFormFields(declared, body))
    return sendFormSuccess(event, body, '/', item._id)
  }
  catch (error) {
    if (!isFormPostFailure(error)) throw error
    return sendFormFailure(event, body, error, '/', declared)
  }
})
