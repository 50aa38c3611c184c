import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { sendCockpitItem } from '../../content/item-read'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return sendCockpitItem(event, requireCockpitModel(model), id)
})
