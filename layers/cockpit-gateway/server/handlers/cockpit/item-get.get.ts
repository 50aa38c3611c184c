import { itemParamsSchema } from '../../../shared/types/cockpit-params'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return serveCockpitItem(event, requireCockpitModel(model), id)
})
