import { itemParamsSchema } from '../../../shared/types/cockpit-params'
import { sendCockpitItemWrite } from '../../writes/item-write'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  return sendCockpitItemWrite(event, requireCockpitModel(model), { action: 'delete', id })
})
