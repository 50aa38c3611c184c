import { modelParamsSchema } from '../../../shared/types/cockpit-params'

export default defineEventHandler(async (event) => {
  const { model } = readGatewayParams(event, modelParamsSchema)
  return serveCockpitItemList(event, requireCockpitModel(model))
})
