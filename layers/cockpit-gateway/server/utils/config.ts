// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): the validated gateway config, parsed once.
export { useGatewayConfig } from '../config/gateway-config'
export type { GatewayConfig } from '../config/gateway-config'
