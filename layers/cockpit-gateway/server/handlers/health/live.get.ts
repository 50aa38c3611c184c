// Liveness: the process answers. No dependency is checked, so a Cockpit or Redis outage never gets a
// healthy instance restarted.
export default defineEventHandler(() => ({ status: 'ok' }))
