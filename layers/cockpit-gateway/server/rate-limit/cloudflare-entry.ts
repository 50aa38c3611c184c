// The worker entry of `cloudflare_module` builds: Nitro's own entry for that preset, unchanged, plus the
// gateway's Durable Object class, which Workers can only bind when the entry module exports it. The
// module sets this file as Nitro's `entry` for that preset only (see modules/cockpit-gateway.ts).
export { default } from 'nitropack/presets/cloudflare/runtime/cloudflare-module'
export { CockpitGatewayState } from './durable-object'
