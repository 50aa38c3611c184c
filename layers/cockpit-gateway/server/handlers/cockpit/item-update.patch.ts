import { z } from 'zod'
import { itemParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { readGatewayBody } from '../../guards/gateway-body'
import { sendCockpitItemWrite } from '../../writes/item-write'

export default defineEventHandler(async (event) => {
  const { model, id } = readGatewayParams(event, itemParamsSchema)
  const declared = requireCockpitModel(model)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  return sendCockpitItemWrite(event, declared, { action: 'update', id, body: data })
})
