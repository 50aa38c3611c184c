// Builds the demo once for the e2e and browser suites: prerendering reads from the embedded emulator (v2).
import { spawnSync } from 'node:child_process'
import { startEmbeddedCockpit } from './embedded-cockpit'

const { emulator, env } = await startEmbeddedCockpit(2)
const result = spawnSync('npx', ['nuxt', 'build'], { stdio: 'inherit', env: { ...process.env, ...env, NUXT_SESSION_PASSWORD: 'build-time-password-not-used-at-run-time-0123456789' } })
await emulator.close()
process.exit(result.status ?? 1)
