import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getRandomPort } from 'get-port-please'
import { startEmulator } from '../../emulator/index'
import type { RunningEmulator } from '../../emulator/index'
import { EMULATOR_KEYS } from '../../scripts/embedded-cockpit'

/** Limits so high that a test's own traffic never hits them (the limiter still counts every request). */
export const GENEROUS_LIMITS = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '100000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_WRITE_LIMIT: '100000',
}

/** The session password every test server runs with (tests unseal cookies with it). */
export const TEST_SESSION_PASSWORD = 'e2e-session-password-0123456789-abcdefghijklmnop'

// `DEMO_OUTPUT_DIR` selects another build (see scripts/build-demo.ts); default: the repo's `.output`.
const SERVER_ENTRY = resolve(process.env.DEMO_OUTPUT_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../.output'), 'server/index.mjs')

/** A built gateway server (`.output`) running as its own process against an emulator. */
export interface RunningGateway {
  url: string
  origin: string
  port: number
  /** The server process's id (for a cleanup that must not wait on a promise). */
  pid: number
  /** Settles when the server process has exited. */
  exited: Promise<void>
  emulator: RunningEmulator
  /** Everything the server printed (stdout and stderr), for log assertions. */
  logs: string[]
  /** Every secret this server knows: no response or log line may contain any of them. */
  secrets: string[]
  stop(): Promise<void>
}

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  version: 1 | 2
  /** Extra env (e.g. short session durations, a Redis URL). */
  env?: Record<string, string>
  /** Reuse an emulator (e.g. several instances against one Cockpit). */
  emulator?: RunningEmulator
  /** Listen on this port instead of a free one (e.g. a fixed `baseURL` for Playwright). */
  port?: number
}

/**
 * Starts `node .output/server/index.mjs` on a free loopback port, in its own temp working directory
 * (so its `.data` state is fresh), against the given or a new emulator; resolves once it answers.
 * @param options version and env
 */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  if (!existsSync(SERVER_ENTRY)) throw new Error('No build: run `npx tsx scripts/build-demo.ts` first')
  const emulator = options.emulator ?? await startEmulator({ version: options.version, port: 0 })
  const ownsEmulator = !options.emulator
  const keys = EMULATOR_KEYS[options.version]
  const port = options.port ?? await getRandomPort('127.0.0.1')
  const cwd = mkdtempSync(join(tmpdir(), 'cg-server-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    NUXT_COCKPIT_URL: emulator.url,
    NUXT_COCKPIT_VERSION: String(options.version),
    NUXT_COCKPIT_READ_KEY: keys.read,
    NUXT_COCKPIT_WRITE_KEY: keys.write,
    NUXT_COCKPIT_AUTH_KEY: keys.auth,
    NUXT_COCKPIT_SUBMIT_KEY: keys.submit,
    NUXT_COCKPIT_ASSET_KEY: keys.asset,
    NUXT_SESSION_PASSWORD: TEST_SESSION_PASSWORD,
    NUXT_COCKPIT_GATEWAY_AUTH_FAILURE_DELAY: '50',
    ...options.env,
  }
  const logs: string[] = []
  const child: ChildProcess = spawn(process.execPath, [SERVER_ENTRY], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout!.on('data', chunk => logs.push(String(chunk)))
  child.stderr!.on('data', chunk => logs.push(String(chunk)))
  const url = `http://127.0.0.1:${port}`
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited early:\n${logs.join('')}`)
    try {
      const response = await fetch(`${url}/api/_auth/session`)
      if (response.ok) break
    }
    catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`gateway did not start:\n${logs.join('')}`)
    }
    await new Promise(r => setTimeout(r, 100))
  }
  const secrets = [keys.read, keys.write, keys.auth, keys.submit, TEST_SESSION_PASSWORD, ...Object.values(options.env ?? {}).filter(v => /secret|key|password/i.test(v) && v.length >= 12)].filter(Boolean)
  return {
    url,
    origin: url,
    port,
    pid: child.pid!,
    exited,
    emulator,
    logs,
    secrets,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await Promise.race([exited, new Promise(r => setTimeout(r, 5000))])
        if (child.exitCode === null) child.kill('SIGKILL')
      }
      if (ownsEmulator) await emulator.close()
      rmSync(cwd, { recursive: true, force: true })
    },
  }
}

/** One recorded exchange, for leak scans. */
export interface RecordedExchange {
  method: string
  path: string
  status: number
  headers: Record<string, string>
  body: string
}

/** Options of one {@link TestBrowser.request}. */
export interface TestRequestInit {
  method?: string
  /** JSON body (sets `content-type: application/json`). */
  json?: unknown
  /** Form body (urlencoded). */
  form?: Record<string, string>
  /** Raw body with its own content-type header. */
  body?: string
  headers?: Record<string, string>
  /** `Origin` to send on state-changing requests; defaults to the gateway's own; `null` sends none. */
  origin?: string | null
}

/**
 * A minimal cookie-keeping HTTP client acting like one browser profile: stores cookies from
 * `Set-Cookie`, sends them back, sends the gateway's own `Origin` on writes, and records every exchange.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>()
  readonly exchanges: RecordedExchange[]

  constructor(readonly gateway: RunningGateway, exchanges: RecordedExchange[] = []) {
    this.exchanges = exchanges
  }

  /**
   * Another browser holding a copy of this one's cookies (a second tab, a stolen cookie, or the same cookie sent to
   * another instance), recording into the same exchanges.
   * @param gateway where the copy sends its requests. @default this browser's gateway
   */
  copy(gateway: RunningGateway = this.gateway): TestBrowser {
    const copy = new TestBrowser(gateway, this.exchanges)
    for (const [name, value] of this.cookies) copy.cookies.set(name, value)
    return copy
  }

  /** The `Cookie` header this browser would send. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** Sends a request and returns the response with its body already read as text. */
  async request(path: string, init: TestRequestInit = {}): Promise<{ status: number, headers: Headers, text: string, json: <T = any>() => T, setCookies: string[] }> {
    const method = init.method ?? (init.json !== undefined || init.form || init.body !== undefined ? 'POST' : 'GET')
    const headers: Record<string, string> = { ...init.headers }
    if (this.cookies.size) headers.cookie = this.cookieHeader()
    if (method !== 'GET' && method !== 'HEAD' && init.origin !== null) headers.origin ??= init.origin ?? this.gateway.origin
    let body: string | undefined
    if (init.json !== undefined) {
      headers['content-type'] ??= 'application/json'
      body = JSON.stringify(init.json)
    }
    else if (init.form) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded'
      body = new URLSearchParams(init.form).toString()
    }
    else if (init.body !== undefined) {
      body = init.body
    }
    const response = await fetch(`${this.gateway.url}${path}`, { method, headers, body, redirect: 'manual' })
    const text = await response.text()
    const setCookies = response.headers.getSetCookie()
    for (const cookie of setCookies) {
      const [pair] = cookie.split(';', 1)
      const index = pair!.indexOf('=')
      const name = pair!.slice(0, index)
      const value = pair!.slice(index + 1)
      if (value === '' || /max-age=0/i.test(cookie) || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    this.exchanges.push({ method, path, status: response.status, headers: Object.fromEntries(response.headers), body: text })
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text), setCookies }
  }

  /** Logs in through the JSON endpoint; throws when it does not answer 200. */
  async login(username: string, password: string): Promise<void> {
    const response = await this.request('/api/auth/login', { json: { username, password } })
    if (response.status !== 200) throw new Error(`login as ${username} failed: ${response.status} ${response.text}`)
  }
}

/**
 * Every place a secret shows up in recorded responses or server logs (empty when none does).
 * @param secrets values that must never appear
 * @param exchanges recorded responses
 * @param logs server log chunks
 */
export function findLeaks(secrets: string[], exchanges: RecordedExchange[], logs: string[] = []): string[] {
  const leaks: string[] = []
  for (const secret of secrets) {
    for (const exchange of exchanges) {
      if (exchange.body.includes(secret) || Object.values(exchange.headers).some(v => v.includes(secret))) leaks.push(`${exchange.method} ${exchange.path} (${exchange.status})`)
    }
    if (logs.some(line => line.includes(secret))) leaks.push('server log')
  }
  return leaks
}
