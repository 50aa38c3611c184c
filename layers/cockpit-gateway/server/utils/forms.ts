// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): makes declared public forms reachable.
export { registerCockpitForms } from '../submissions/registry'
