export default defineEventHandler(event => sendGatewayRouteMiss(event))
