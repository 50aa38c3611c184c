import { singletonParamsSchema } from '../../../shared/types/cockpit-params'
import { serveCockpitSingleton } from '../../content/singletons'

export default defineEventHandler(async (event) => {
  const { name } = readGatewayParams(event, singletonParamsSchema)
  return serveCockpitSingleton(event, requireCockpitSingleton(name))
})
