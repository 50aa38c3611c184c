import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { deleteCockpitItem } from '../../content/cockpit-items'
import { requireCockpitModel } from '../../content/cockpit-models'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  await deleteCockpitItem(event, requireCockpitModel(model), id)
  setResponseStatus(event, 204)
  return null
})
