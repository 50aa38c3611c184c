// Public API, @public (auto-imported into every app that extends the layer; JSDoc on the implementation): a declared model's write policy.
export { requirePermission } from '../content/cockpit-items'
export type { CockpitWriteAction } from '../content/cockpit-items'
