export default defineEventHandler(async (event) => {
  const { user } = await requireGatewaySession(event)
  await revokeAllGatewaySessions(event, user.id)
  setResponseStatus(event, 204)
  return null
})
