import { z } from 'zod'
import { itemParamsSchema } from '../../../shared/types/cockpit-params'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  const declared = requireCockpitModel(model)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  return updateCockpitItem(event, declared, id, data)
})
