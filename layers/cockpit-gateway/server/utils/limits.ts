// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): the gateway's named rate-limit policies.
export { requireRateLimit } from '../rate-limit/gateway-rate-limit'
export type { GatewayRateLimitPolicy } from '../rate-limit/gateway-rate-limit'
