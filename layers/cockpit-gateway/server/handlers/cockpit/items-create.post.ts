import { z } from 'zod'
import { modelParamsSchema } from '../../../shared/types/cockpit-params'

export default defineEventHandler(async (event) => {
  const { model } = readGatewayParams(event, modelParamsSchema)
  const declared = requireCockpitModel(model)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  const item = await createCockpitItem(event, declared, data)
  setResponseStatus(event, 201)
  return item
})
