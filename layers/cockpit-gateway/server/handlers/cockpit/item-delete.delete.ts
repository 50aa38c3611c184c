import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { sendCockpitItemWrite } from '../../writes/item-write'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return sendCockpitItemWrite(event, requireCockpitModel(model), { action: 'delete', id })
})
