import { singletonParamsSchema } from '../../../shared/internal/cockpit-params'
import { updateCockpitSingleton } from '../../content/singletons'
import { coerceFormFields, isFormPostFailure, readGatewayFormBody, sendFormFailure, sendFormSuccess } from '../../forms/form-post'
import { readGatewayParams } from '../../guards/gateway-params'
import { GATEWAY_FORM_TOKEN_FIELD } from '../../forms/gateway-form-token'
import { requireCockpitSingleton } from '../../content/singleton-registry'

/**
 * `POST {prefix}/form-posts/singletons/:name/update`: the HTML form twin of `PATCH singletons/:name`.
 * Same-origin (guard) plus the session's form token; then the same update as the JSON route (v1: back to
 * the form with `?error=NOT_SUPPORTED`).
 */
export default defineEventHandler(async (event) => {
  const { name } = readGatewayParams(event, singletonParamsSchema)
  const singleton = requireCockpitSingleton(name)
  const body = await readGatewayFormBody(event)
  try {
    await requireGatewayFormToken(event, body[GATEWAY_FORM_TOKEN_FIELD])
    await updateCockpitSingleton(event, singleton, coerceFormFields(singleton, body))
    return sendFormSuccess(event, body, '/')
  }
  catch (error) {
    if (!isFormPostFailure(error)) throw error
    return sendFormFailure(event, body, error, '/', singleton)
  }
})
