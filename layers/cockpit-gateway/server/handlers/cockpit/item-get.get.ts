import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { serveCockpitItem } from '../../content/cockpit-items'
import { requireCockpitModel } from '../../content/cockpit-models'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return serveCockpitItem(event, requireCockpitModel(model), id)
})
