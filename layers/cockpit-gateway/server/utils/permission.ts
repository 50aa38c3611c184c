// Public API (auto-imported into every app that extends the layer): a declared model's write policy.
export { requirePermission } from '../content/cockpit-items'
export type { CockpitWriteAction } from '../content/cockpit-items'
