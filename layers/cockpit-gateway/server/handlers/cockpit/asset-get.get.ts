import { assetParamsSchema } from '../../../shared/internal/cockpit-params'
import { serveCockpitAsset } from '../../assets/images'
import { readGatewayParams } from '../../guards/gateway-params'

export default defineEventHandler(async (event) => {
  const { id } = readGatewayParams(event, assetParamsSchema)
  return serveCockpitAsset(event, id)
})
