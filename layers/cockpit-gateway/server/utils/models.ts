// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): makes declared models reachable.
export { registerCockpitModels } from '../content/cockpit-models'
