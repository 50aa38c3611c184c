// Builds the demo once for the e2e and browser suites: prerendering reads from the embedded emulator (v2),
// which runs in this process (so the build runs as an async child: a sync one would block the emulator).
import { spawn } from 'node:child_process'
import { startEmbeddedCockpit } from './embedded-cockpit'

const { emulator, env } = await startEmbeddedCockpit(2)
const child = spawn('npx', ['nuxt', 'build'], { stdio: 'inherit', env: { ...process.env, ...env } })
const code = await new Promise<number>(resolve => child.on('exit', c => resolve(c ?? 1)))
await emulator.close()
process.exit(code)
