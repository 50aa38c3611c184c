import { itemParamsSchema } from '../../../shared/types/cockpit-params'
import { sendCockpitItem } from '../../content/item-read'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return sendCockpitItem(event, requireCockpitModel(model), id)
})
