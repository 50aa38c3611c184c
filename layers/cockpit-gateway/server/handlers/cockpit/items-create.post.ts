import { z } from 'zod'
import { modelParamsSchema } from '../../../shared/internal/cockpit-params'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitModel } from '../../content/cockpit-models'
import { readGatewayBody } from '../../guards/gateway-body'
import { createCockpitItem } from '../../content/cockpit-items'

export default defineEventHandler(async (event) => {
  const { model } = readGatewayParams(event, modelParamsSchema)
  const declared = requireCockpitModel(model)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  const item = await createCockpitItem(event, declared, data)
  setResponseStatus(event, 201)
  return item
})
