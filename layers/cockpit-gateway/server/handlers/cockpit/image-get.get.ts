import { assetParamsSchema } from '../../../shared/internal/cockpit-params'
import { serveCockpitImage } from '../../assets/images'
import { readGatewayParams } from '../../guards/gateway-params'

export default defineEventHandler(async (event) => {
  const { id } = readGatewayParams(event, assetParamsSchema)
  return serveCockpitImage(event, id)
})
