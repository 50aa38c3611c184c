import { singletonParamsSchema } from '../../../shared/internal/cockpit-params'
import { serveCockpitSingleton } from '../../content/singletons'
import { readGatewayParams } from '../../guards/gateway-params'
import { requireCockpitSingleton } from '../../content/singleton-registry'

export default defineEventHandler(async (event) => {
  const { name } = readGatewayParams(event, singletonParamsSchema)
  return serveCockpitSingleton(event, requireCockpitSingleton(name))
})
