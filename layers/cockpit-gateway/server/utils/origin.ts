// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): the same-origin check of state-changing requests.
export { requireSameOriginRequest } from '../guards/gateway-origin'
