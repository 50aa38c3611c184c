import { assetParamsSchema } from '../../../shared/types/cockpit-params'
import { serveCockpitAsset } from '../../assets/images'

export default defineEventHandler(async (event) => {
  const { id } = readGatewayParams(event, assetParamsSchema)
  return serveCockpitAsset(event, id)
})
