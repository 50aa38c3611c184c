import { itemParamsSchema } from '../../../shared/types/cockpit-params'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  await deleteCockpitItem(event, requireCockpitModel(model), id)
  setResponseStatus(event, 204)
  return null
})
