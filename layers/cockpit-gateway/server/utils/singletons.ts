// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): makes declared singletons reachable.
export { registerCockpitSingletons } from '../content/singleton-registry'
