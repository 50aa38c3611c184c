// `npm start`: builds and serves the demo. With no NUXT_COCKPIT_URL it runs against the embedded Cockpit
// emulator (a separate in-process server here, never part of the build), with no configuration at all.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import type { RunningEmulator } from '../emulator/index'
import { emulatorRoleKeys, startEmbeddedCockpit } from './embedded-cockpit'

const env: Record<string, string | undefined> = { ...process.env }
let emulator: RunningEmulator | undefined

if (!env.NUXT_COCKPIT_URL) {
  const version = env.NUXT_COCKPIT_VERSION === '1' ? 1 : 2
  const embedded = await startEmbeddedCockpit(version)
  emulator = embedded.emulator
  Object.assign(env, embedded.env)
  if (!env.NUXT_COCKPIT_ROLE_KEYS) Object.assign(env, emulatorRoleKeys(version))
  // Its address is the gateway's business only: printed as such, so that nobody mistakes it for the demo.
  console.log(`[start] NUXT_COCKPIT_URL is not set: the gateway reads from the embedded Cockpit emulator (v${version}, reference seed; internal API at ${emulator.url}, not a page to open).`)
}
if (!env.NUXT_SESSION_PASSWORD) {
  env.NUXT_SESSION_PASSWORD = randomBytes(32).toString('hex')
  console.log('[start] NUXT_SESSION_PASSWORD is not set: generated a random one for this run; sessions will not survive a restart.')
}
const port = env.PORT ?? '3000'
const host = env.HOST ?? '127.0.0.1'
env.PORT = port
env.HOST = host
if (!env.NUXT_SESSION_COOKIE_SECURE && (host === '127.0.0.1' || host === 'localhost')) {
  // Plain http on loopback: a Secure or __Host- cookie would be dropped by some browsers.
  env.NUXT_SESSION_COOKIE_SECURE = 'false'
  env.NUXT_SESSION_NAME ??= 'cockpit-session'
  console.log('[start] serving plain http on loopback: the session cookie is not marked Secure (set NUXT_SESSION_COOKIE_SECURE=true behind https).')
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: 'inherit' })
    const stop = () => child.kill('SIGTERM')
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    child.on('exit', (code) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(code ?? 1)
    })
  })
}

let code = process.env.START_SKIP_BUILD ? 0 : await run('npx', ['nuxt', 'build'])
if (code === 0) {
  const accounts = emulator ? ' Demo accounts: admin / admin-pass-123, editor / editor-pass-123, guest / guest-pass-123 (see the README for what each may do).' : ''
  console.log(`\n[start] Open http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port} in your browser.${accounts} Ctrl+C stops the server${emulator ? ' and the emulator' : ''}.\n`)
  code = await run(process.execPath, ['.output/server/index.mjs'])
}
await emulator?.close()
process.exit(code)
