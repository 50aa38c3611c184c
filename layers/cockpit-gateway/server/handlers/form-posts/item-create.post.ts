import { modelParamsSchema } from '../../../shared/internal/cockpit-params'
import { coerceFormFields, isFormPostFailure, readGatewayFormBody, sendFormFailure, sendFormSuccess, readFormWriteGuards } from '../../forms/form-post'
import { requireGatewayFormToken, GATEWAY_FORM_TOKEN_FIELD } from '../../forms/gateway-form-token'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { runCockpitItemWrite } from '../../writes/item-write'

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
    const answer = await runCockpitItemWrite(event, declared, { action: 'create', body: coerceFormFields(declared, body), ...readFormWriteGuards(body) })
    return sendFormSuccess(event, body, '/', (JSON.parse(answer.body!) as { _id: string })._id)
  }
  catch (error) {
    if (!isFormPostFailure(error)) throw error
    return sendFormFailure(event, body, error, '/', declared)
  }
})
