import { sendGatewayRouteMiss } from '../../guards/gateway-routes'

export default defineEventHandler(event => sendGatewayRouteMiss(event))
