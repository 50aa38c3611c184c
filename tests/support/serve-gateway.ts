// Serves the built demo for the Playwright suite (one process per Cockpit version, started by
// playwright.config.ts): a Cockpit emulator, the built gateway on a fixed port, a second gateway with a
// strict per-username login limit (for the rate-limit spec), and a TEST-ONLY control endpoint on its own
// port that shows what reached the emulator. The control endpoint exists in this script only, never in
// the product. Usage: tsx tests/support/serve-gateway.ts --version 2 --port 4302 [--control-port 4312]
import { createServer } from 'node:http'
import type { ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import { startEmulator } from '../../emulator/index'
import { emulatorRoleKeys, findDemoImageId } from '../../scripts/embedded-cockpit'
import { readStoredMessages } from './emulator-store'
import { startGateway } from './gateway-server'
import type { RunningGateway } from './gateway-server'

const { values } = parseArgs({
  options: {
    'version': { type: 'string', default: '2' },
    'port': { type: 'string' },
    'control-port': { type: 'string' },
  },
})
const version = values.version === '1' ? 1 : 2
const port = Number(values.port)
if (!Number.isInteger(port) || port <= 0) throw new Error('--port is required')
const controlPort = Number(values['control-port'] ?? port + 10)

/** Plain http on loopback: a `__Host-`/Secure cookie would not be kept by the browser. */
const BROWSER_ENV = {
  NUXT_SESSION_COOKIE_SECURE: 'false',
  NUXT_SESSION_NAME: 'cockpit-session',
}
// The login limits are per client IP and per username, and every browser test logs in from 127.0.0.1
// as the same few users: the main gateway keeps both generous; the strict one allows 3 per username.
const GENEROUS_LOGIN = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '1000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '1000',
}
// Every contact-form spec sends from 127.0.0.1: the per-IP submission limit stays out of their way, and the
// minimum time-to-submit is short (the specs wait it out) but not zero (the too-fast specs need it).
const FORMS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_SUBMIT_LIMIT: '1000',
  NUXT_COCKPIT_GATEWAY_FORMS_MIN_SUBMIT_TIME: '3',
}
const STRICT_LOGIN = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '1000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '3',
  // The 4th attempt waits this long: no test outlasts it by accident.
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_DELAY: '600',
}

const emulator = await startEmulator({ version, port: 0 })
const gateways: RunningGateway[] = []
let stopping: Promise<void> | undefined

/** JSON answer of the control endpoint. */
function send(res: ServerResponse, status: number, body?: unknown) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(body === undefined ? undefined : JSON.stringify(body))
}

const control = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0]
  if (path === '/info' && req.method === 'GET') {
    return send(res, 200, { version, url: gateways[0]!.url, strictUrl: gateways[1]!.url })
  }
  if (path === '/requests' && req.method === 'GET') {
    // Headers are left out: they hold the Cockpit keys, which have no business in a test report.
    return send(res, 200, emulator.requests.map(({ method, path, search, at }) => ({ method, path, search, at })))
  }
  if (path === '/requests' && req.method === 'DELETE') {
    emulator.clearRequests()
    return send(res, 204)
  }
  if (path === '/messages' && req.method === 'GET') {
    // What Cockpit stored from the contact form, read with the emulator's full key (never through the gateway).
    void readMessages().then(messages => send(res, 200, messages), () => send(res, 502, { error: 'emulator' }))
    return
  }
  if (path === '/logs' && req.method === 'GET') {
    return send(res, 200, gateways.flatMap(gateway => gateway.logs))
  }
  send(res, 404, { error: 'not found' })
})

/** Contact messages in the emulator's store as `{ name, email, message }` (v2 items of `messages`, v1 entries of `contact`). */
async function readMessages(): Promise<Record<string, unknown>[]> {
  const { docs } = await readStoredMessages(emulator, version)
  return docs.map(doc => (version === 2 ? doc : doc.data) as Record<string, unknown>).map(({ name, email, message }) => ({ name, email, message }))
}

async function stop(): Promise<void> {
  stopping ??= (async () => {
    control.closeAllConnections()
    control.close()
    await Promise.allSettled(gateways.map(gateway => gateway.stop()))
    await emulator.close()
  })()
  return stopping
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void stop().finally(() => process.exit(0))
  })
}

try {
  // The About page's image, and the role key an admin's settings edit uses (see emulatorRoleKeys).
  const DEMO_ENV = {
    NUXT_PUBLIC_DEMO_IMAGE_ID: await findDemoImageId(emulator),
    ...emulatorRoleKeys(version),
  }
  gateways.push(await startGateway({ version, emulator, port, env: { ...BROWSER_ENV, ...GENEROUS_LOGIN, ...FORMS, ...DEMO_ENV } }))
  gateways.push(await startGateway({ version, emulator, env: { ...BROWSER_ENV, ...STRICT_LOGIN } }))
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject)
    control.listen(controlPort, '127.0.0.1', () => resolve())
  })
}
catch (error) {
  console.error(error)
  await stop()
  process.exit(1)
}
console.log(`[serve-gateway] Cockpit v${version}: gateway ${gateways[0]!.url}, strict-login gateway ${gateways[1]!.url}, control http://127.0.0.1:${(control.address() as AddressInfo).port}`)
