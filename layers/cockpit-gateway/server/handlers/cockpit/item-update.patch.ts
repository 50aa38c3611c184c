import { z } from 'zod'
import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { readGatewayBody } from '../../guards/gateway-body'
import { updateCockpitItem } from '../../content/cockpit-items'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  const declared = requireCockpitModel(model)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  return updateCockpitItem(event, declared, id, data)
})
