export default defineEventHandler(async (event) => {
  await endGatewaySession(event)
  setResponseStatus(event, 204)
  return null
})
