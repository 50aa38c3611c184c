import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { isFormPostFailure, readGatewayFormBody, sendFormFailure, sendFormSuccess, readFormWriteGuards } from '../../forms/form-post'
import { requireGatewayFormToken, GATEWAY_FORM_TOKEN_FIELD } from '../../forms/gateway-form-token'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { runCockpitItemWrite } from '../../writes/item-write'

/**
 * `POST {prefix}/form-posts/:model/:id/delete`: the HTML form twin of `DELETE items/:model/:id`. Same-origin
 * (guard) plus the session's form token; then the same delete as the JSON route.
 */
export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  const declared = requireCockpitModel(model)
  const body = await readGatewayFormBody(event)
  try {
    await requireGatewayFormToken(event, body[GATEWAY_FORM_TOKEN_FIELD])
    await runCockpitItemWrite(event, declared, { action: 'delete', id, ...readFormWriteGuards(body) })
    return sendFormSuccess(event, body, '/')
  }
  catch (error) {
    if (!isFormPostFailure(error)) throw error
    return sendFormFailure(event, body, error, '/')
  }
})
