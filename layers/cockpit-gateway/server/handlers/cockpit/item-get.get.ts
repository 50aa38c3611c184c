import { itemParamsSchema } from '../../../shared/types/cockpit-params'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return getCockpitItem(event, requireCockpitModel(model), id)
})
