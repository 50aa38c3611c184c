import { z } from 'zod'
import { singletonParamsSchema } from '../../../shared/internal/cockpit-params'
import { updateCockpitSingleton } from '../../content/singletons'
import { readGatewayParams } from '../../guards/gateway-params'
import { readGatewayBody } from '../../guards/gateway-body'
import { requireCockpitSingleton } from '../../content/singleton-registry'

export default defineEventHandler(async (event) => {
  const { name } = readGatewayParams(event, singletonParamsSchema)
  const singleton = requireCockpitSingleton(name)
  const { data } = await readGatewayBody(event, z.record(z.string(), z.unknown()), { invalidStatus: 422 })
  return updateCockpitSingleton(event, singleton, data)
})
