// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): the Cockpit client the gateway's own
// routes use (keys, timeouts, retries and the request/response hooks included).
export { useCockpitClient } from '../cockpit/cockpit'
export type { CockpitAdapter } from '../cockpit/cockpit-types'
