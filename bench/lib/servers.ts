// The servers the benchmarks start: the upstream stub, any node server script, and the built gateway with
// local users (so logins never reach the upstream). Shared by `npm run bench` and `npm run bench:soak`.
import { randomBytes } from 'node:crypto'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Hash } from '@adonisjs/hash'
import { Scrypt } from '@adonisjs/hash/drivers/scrypt'
import { getRandomPort } from 'get-port-please'
import { makeTempDir, startProcess, waitUntilReady } from './processes'
import type { BenchProcess } from './processes'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const BENCH = join(ROOT, 'bench')

/** The demo's built node-server entry (`DEMO_OUTPUT_DIR` or `.output`). */
export const GATEWAY_ENTRY = resolve(process.env.DEMO_OUTPUT_DIR ?? join(ROOT, '.output'), 'server/index.mjs')

/** A logged-in user of the bench's gateways. */
export type Session = 'guest' | 'editor'

/** A running server of the bench. */
export interface Server {
  url: string
  proc: BenchProcess
  cookies: Partial<Record<Session, string>>
}

/** Fresh per run: the stub's read and write keys. */
export const readKey = `API-${randomBytes(20).toString('hex')}`
/** @see readKey */
export const writeKey = `API-${randomBytes(20).toString('hex')}`
const passwords = { guest: randomBytes(12).toString('base64url'), editor: randomBytes(12).toString('base64url') }

/** Starts the upstream stub (bench/upstream-stub.ts) on a random port. */
export async function startStub(): Promise<Server> {
  const proc = startProcess('upstream stub', process.execPath, ['--import', 'tsx', join(BENCH, 'upstream-stub.ts')], {
    cwd: ROOT,
    env: { BENCH_UPSTREAM_READ_KEY: readKey, BENCH_UPSTREAM_WRITE_KEY: writeKey },
  })
  let port = 0
  await waitUntilReady(proc, async () => {
    const line = proc.output.join('').split('\n')[0]
    if (line && line.startsWith('{')) port = (JSON.parse(line) as { port: number }).port
    return port > 0
  })
  return { url: `http://127.0.0.1:${port}`, proc, cookies: {} }
}

/**
 * Starts a node server script on a free port and waits until it answers anything on `probePath`.
 * @param name for logs
 * @param entry the script
 * @param env its env (PORT, HOST and NODE_ENV are set here)
 * @param options node arguments, readiness probe path, stop signal, working directory
 */
export async function startNodeServer(name: string, entry: string, env: Record<string, string>, options: { nodeArgs?: string[], probePath?: string, stopSignal?: NodeJS.Signals, cwd?: string } = {}): Promise<Server> {
  const port = await getRandomPort('127.0.0.1')
  const proc = startProcess(name, process.execPath, [...(options.nodeArgs ?? []), entry], {
    cwd: options.cwd,
    env: { NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), NITRO_SHUTDOWN_TIMEOUT: '3000', ...env },
    stopSignal: options.stopSignal,
  })
  const url = `http://127.0.0.1:${port}`
  await waitUntilReady(proc, async () => {
    const response = await fetch(`${url}${options.probePath ?? '/__bench/ready'}`)
    await response.arrayBuffer()
    return options.probePath ? response.ok : true
  })
  return { url, proc, cookies: {} }
}

/** The gateway's local users (`editor`, `guest`) as `NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS` JSON. */
export async function localUsers(): Promise<string> {
  // Exactly what the layer's scripts/hash-password.ts does (nuxt-auth-utils' own hashing).
  const hash = new Hash(new Scrypt({}))
  return JSON.stringify([
    { username: 'editor', name: 'Bench Editor', role: 'editor', passwordHash: await hash.make(passwords.editor) },
    { username: 'guest', name: 'Bench Guest', role: 'guest', passwordHash: await hash.make(passwords.guest) },
  ])
}

/**
 * Starts the built gateway in front of `upstreamUrl` with local users and limits that never refuse, and
 * logs in a guest and an editor.
 * @param name for logs and its temp dir
 * @param upstreamUrl the stub, or a proxy in front of it
 * @param users from {@link localUsers}
 * @param extraEnv more env
 * @param nodeArgs e.g. `--cpu-prof`
 */
export async function startGateway(name: string, upstreamUrl: string, users: string, extraEnv: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Server> {
  const server = await startNodeServer(name, GATEWAY_ENTRY, {
    NUXT_COCKPIT_URL: upstreamUrl,
    NUXT_COCKPIT_VERSION: '2',
    NUXT_COCKPIT_READ_KEY: readKey,
    NUXT_COCKPIT_WRITE_KEY: writeKey,
    NUXT_SESSION_PASSWORD: randomBytes(32).toString('base64url'),
    NUXT_SESSION_NAME: 'cockpit-session',
    NUXT_SESSION_COOKIE_SECURE: 'false',
    NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER: 'local',
    NUXT_COCKPIT_GATEWAY_AUTH_LOCAL_USERS: users,
    // Raised so the limiter still runs on every request but never refuses one.
    NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '1000000000',
    NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '1000000000',
    NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '1000000',
    NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '1000000',
    ...extraEnv,
  }, { nodeArgs, probePath: '/api/_auth/session', stopSignal: 'SIGINT', cwd: makeTempDir(`cg-bench-${name}-`) })
  for (const session of ['guest', 'editor'] as const) server.cookies[session] = await login(server, session)
  return server
}

/**
 * Logs in through the JSON route and checks the cookie holds that session.
 * @param server a gateway from {@link startGateway}
 * @param session who
 * @returns the `Cookie` header value
 */
export async function login(server: Server, session: Session): Promise<string> {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'origin': server.url },
    body: JSON.stringify({ username: session, password: passwords[session] }),
  })
  await response.arrayBuffer()
  const cookie = response.headers.getSetCookie().map(c => c.split(';', 1)[0]!).find(c => c.startsWith('cockpit-session='))
  if (response.status !== 200 || !cookie) throw new Error(`login as ${session} failed: ${response.status}`)
  const check = await fetch(`${server.url}/api/_auth/session`, { headers: { cookie } })
  const body = await check.json() as { user?: { role?: string } }
  if (body.user?.role !== session) throw new Error(`the ${session} cookie does not hold a ${session} session`)
  return cookie
}
