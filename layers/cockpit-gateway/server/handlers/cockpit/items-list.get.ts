import { modelParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { serveCockpitItemList } from '../../content/cockpit-items'
import { requireCockpitModel } from '../../content/cockpit-models'

export default defineEventHandler(async (event) => {
  const { model } = readGatewayParams(event, modelParamsSchema)
  return serveCockpitItemList(event, requireCockpitModel(model))
})
