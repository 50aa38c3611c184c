// Public API (auto-imported into every app that extends the layer): the same-origin check of state-changing requests.
export { requireSameOriginRequest } from '../guards/gateway-origin'
