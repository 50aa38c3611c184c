import { assetParamsSchema } from '../../../shared/types/cockpit-params'
import { serveCockpitImage } from '../../assets/images'

export default defineEventHandler(async (event) => {
  const { id } = readGatewayParams(event, assetParamsSchema)
  return serveCockpitImage(event, id)
})
