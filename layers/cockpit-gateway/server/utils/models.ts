// Public API (auto-imported into every app that extends the layer): makes declared models reachable.
export { registerCockpitModels } from '../content/cockpit-models'
