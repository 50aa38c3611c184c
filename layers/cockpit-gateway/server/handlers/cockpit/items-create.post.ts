import { z } from 'zod'
import { modelParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { readGatewayBody } from '../../guards/gateway-body'
import { sendCockpitItemWrite } from '../../writes/item-write'

export default defineEventHandler(async (event) => {
  const { model } = readGatewayParams(event, modelParamsSchema)
  const declared = requireCockpitModel(model)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  return sendCockpitItemWrite(event, declared, { action: 'create', body: data })
})
