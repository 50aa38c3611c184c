// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): sessions with the gateway's checks
// (idle timeout, revocation, state-store epoch). nuxt-auth-utils' own `getUserSession` skips those checks.
export { getGatewaySession, requireGatewaySession, requireRole, startGatewaySession } from '../session/gateway-session'
export type { GatewaySession } from '../session/gateway-session'
