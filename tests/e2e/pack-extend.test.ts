import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve, sep } from 'node:path'
import { getRandomPort } from 'get-port-please'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningEmulator } from '../../emulator/index'
import { EMULATOR_KEYS, startEmbeddedCockpit } from '../../scripts/embedded-cockpit'
import { findLeaks, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'

// The layer as a user gets it: `npm pack`ed, installed from the tarball into an app of their own outside
// the repository (tests/fixtures/consumer-app), extended by package name, built with a prerendered page,
// typechecked, and served as `node .output/server/index.mjs`. Nothing here resolves back to the repository.

const ROOT = resolve(__dirname, '../..')
const LAYER = join(ROOT, 'layers/cockpit-gateway')
const TEMPLATE = join(ROOT, 'tests/fixtures/consumer-app')
const SESSION_PASSWORD = 'consumer-session-password-0123456789-abcdefgh'
const ALICE_PASSWORD = 'alice-password-1'
const BOB_PASSWORD = 'bob-password-1'
const KEYS = EMULATOR_KEYS[2]
const SECRETS = [KEYS.read, KEYS.write, SESSION_PASSWORD]
const INSTALL_TIMEOUT = 300_000
const BUILD_TIMEOUT = 240_000
const TYPECHECK_TIMEOUT = 180_000

// The layer's public surface, as the layer README lists it: adding a name here is a deliberate API change.
// Shared utils (`defineCockpitModel` and the model types) are globals on both sides.
const PUBLIC_SHARED = ['defineCockpitForm', 'defineCockpitModel', 'defineCockpitSingleton']
const PUBLIC_SHARED_TYPES = [
  'CockpitFilterOperator', 'CockpitForm', 'CockpitFormData', 'CockpitFormOptions', 'CockpitModel', 'CockpitModelItem', 'CockpitModelOptions',
  'CockpitReadAccess', 'CockpitSingleton', 'CockpitSingletonOptions', 'CockpitSingletonValue', 'CockpitWriteAccess',
]
const PUBLIC_SERVER_UTILS = [
  'getCanonicalUsername', 'getGatewayFormToken', 'getGatewaySession', 'mapGatewayRole', 'mapOidcClaimsToUser',
  'registerCockpitForms', 'registerCockpitModels', 'registerCockpitSingletons', 'requireGatewayFormToken', 'requireGatewaySession', 'requirePermission', 'requireRateLimit',
  'requireRole', 'requireSameOriginRequest', 'startGatewaySession', 'useCockpitClient', 'useGatewayConfig',
]
const PUBLIC_SERVER_TYPES = [
  'CockpitAdapter', 'CockpitWriteAction', 'GatewayConfig', 'GatewayRateLimitPolicy', 'GatewaySession',
  'PasswordIdentityProvider', 'PasswordIdentityProviderDefinition',
]
const PUBLIC_COMPOSABLES = ['useCockpitForm', 'useCockpitImage', 'useCockpitItem', 'useCockpitItems', 'useCockpitMutation', 'useCockpitRoutes', 'useCockpitSingleton', 'useCockpitUser']
const PUBLIC_COMPOSABLE_TYPES = ['CockpitGatewayError', 'CockpitImageOptions', 'CockpitItemsQuery', 'CockpitReadError', 'CockpitRoutes', 'CockpitUserState', 'CockpitWriteOptions', 'UseCockpitFormOptions']

/**
 * The names an auto-import declaration file (`.nuxt/types/imports.d.ts`, `nitro-imports.d.ts`) takes from the
 * installed layer: its values (`const x: typeof import('…/cockpit-gateway/…').x`) and its types
 * (`export type { X, Y } from '…/cockpit-gateway/…'`), each sorted.
 */
function layerAutoImports(declarations: string): { values: string[], types: string[] } {
  const fromLayer = String.raw`[^']*node_modules/cockpit-gateway/[^']+`
  const values = [...declarations.matchAll(new RegExp(String.raw`const (\w+): typeof import\('${fromLayer}'\)`, 'g'))].map(([, name]) => name!)
  const types = [...declarations.matchAll(new RegExp(String.raw`export type \{([^}]*)\} from '${fromLayer}'`, 'g'))]
    .flatMap(([, names]) => names!.split(',').map(name => name.trim()).filter(Boolean))
  return { values: [...new Set(values)].sort(), types: [...new Set(types)].sort() }
}

/** The runner's env without what would change a child's behaviour (NUXT_*, vitest's test mode, `npm run`'s npm_* settings). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ([name]: [string, unknown]) => !/^(NUXT_|NITRO_|VITEST|TEST$|NODE_ENV$|INIT_CWD$)/.test(name)
    && (!/^npm_/i.test(name) || /^npm_config_(cache|registry|userconfig)$/i.test(name))
  return { ...Object.fromEntries(Object.entries(process.env).filter(keep)), ...extra }
}

interface Finished { code: number | null, output: string }

/** Runs a command as an async child (the emulator in this process must keep answering), killed after `timeout` ms. */
function run(command: string, args: string[], options: { cwd: string, env: NodeJS.ProcessEnv, timeout: number }): { child: ChildProcess, done: Promise<Finished> } {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk) => {
    output += chunk
  })
  child.stderr!.on('data', (chunk) => {
    output += chunk
  })
  const done = new Promise<Finished>((resolveDone) => {
    const timer = setTimeout(() => {
      output += `\n[test] ${command} ${args.join(' ')} timed out after ${options.timeout} ms\n`
      child.kill('SIGKILL')
    }, options.timeout)
    child.on('error', (error) => {
      output += `\n[test] ${error.message}\n`
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolveDone({ code, output })
    })
  })
  return { child, done }
}

/** Every file below `dir`, as `/`-separated paths relative to `base`. */
function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? listFiles(path, base) : [relative(base, path).split(sep).join('/')]
  })
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise(r => child.once('exit', r))
  child.kill('SIGTERM')
  await Promise.race([exited, new Promise(r => setTimeout(r, 5000))])
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}

describe('the packed layer, extended by an app of its own', () => {
  const layerPackage = JSON.parse(readFileSync(join(LAYER, 'package.json'), 'utf8'))
  let work: string
  let tarball: string
  let app: string
  let emulator: RunningEmulator
  let cockpitEnv: Record<string, string>
  let installed = false
  let built = false
  let typecheck: ReturnType<typeof run> | undefined
  let appImports = ''
  let serverImports = ''
  let server: ChildProcess | undefined
  let gateway: RunningGateway
  const serverLogs: string[] = []
  const exchanges: RecordedExchange[] = []

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cg-consumer-'))
    app = join(work, 'my-site')
    ;({ emulator, env: cockpitEnv } = await startEmbeddedCockpit(2))
  })

  afterAll(async () => {
    await stopProcess(server)
    await stopProcess(typecheck?.child)
    await emulator?.close()
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('packs exactly the files the package lists, with a usable manifest', async () => {
    const { code, output } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: LAYER, env: cleanEnv(), timeout: 60_000 }).done
    expect(code, output).toBe(0)
    const [packed] = JSON.parse(output.slice(output.indexOf('['))) as [{ filename: string }]
    tarball = join(work, packed.filename)
    expect(existsSync(tarball)).toBe(true)

    // What is really in the archive, not what npm says it put there.
    const listing = await run('tar', ['-tzf', tarball], { cwd: work, env: cleanEnv(), timeout: 30_000 }).done
    expect(listing.code, listing.output).toBe(0)
    const entries = listing.output.split('\n').filter(Boolean).filter(entry => !entry.endsWith('/'))
    expect(entries.every(entry => entry.startsWith('package/'))).toBe(true)
    const inTarball = entries.map(entry => entry.slice('package/'.length)).sort()
    const listed = ['package.json', ...(layerPackage.files as string[]).flatMap((entry) => {
      const path = join(LAYER, entry)
      return lstatSync(path).isDirectory() ? listFiles(path, LAYER) : [entry]
    })].sort()
    expect(inTarball).toEqual(listed)
    expect(inTarball.filter(path => /(^|\/)(node_modules|\.nuxt|\.output|\.data|tests?|coverage)\/|\.(test|spec)\.ts$|\.tgz$/.test(path))).toEqual([])

    const manifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: work, env: cleanEnv(), timeout: 30_000 }).done).output)
    expect(manifest).toMatchObject({ name: 'cockpit-gateway', version: layerPackage.version, main: './nuxt.config.ts', type: 'module' })
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(manifest.private).toBeUndefined()
    // The range CI tests: 4.4.5 on Node 20, the newest 4.x on Node 22.
    expect(manifest.peerDependencies.nuxt).toBe('>=4.4.5 <5')
    // Nuxt adds `/// <reference types="cockpit-gateway" />` for the layer's modules: it must land on a declaration file.
    expect(inTarball).toContain(manifest.types.replace(/^\.\//, ''))
  }, 90_000)

  it('installs from the tarball into a fresh app outside the repository', async () => {
    expect(tarball, 'no tarball').toBeTruthy()
    expect(realpathSync(work).startsWith(`${realpathSync(ROOT)}${sep}`)).toBe(false)
    cpSync(TEMPLATE, app, { recursive: true, filter: source => !/[\\/](node_modules|\.nuxt|\.output|\.data)$/.test(source) })
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))
    // The same pins as the repository's own tree (its lockfile and tests): without them a fresh install picks
    // releases the layer was never tested with (unstorage 1.17.6, and a vite outside the 7.3 line).
    expect(pkg.overrides).toEqual({ unstorage: '1.17.5', vite: '7.3.8' })
    pkg.dependencies['cockpit-gateway'] = `file:${tarball}`
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`)

    let { code, output } = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: cleanEnv(), timeout: INSTALL_TIMEOUT }).done
    // --prefer-offline trusts cached package metadata; when one cached packument is older than another that
    // names its newest version (vue's newer than @vue/compiler-core's), npm answers ETARGET: ask the registry.
    if (code !== 0 && /ETARGET|notarget/.test(output)) {
      ({ code, output } = await run('npm', ['install', '--prefer-online', '--no-audit', '--no-fund'], { cwd: app, env: cleanEnv(), timeout: INSTALL_TIMEOUT }).done)
    }
    expect(code, output.slice(-4000)).toBe(0)
    const installedLayer = join(app, 'node_modules/cockpit-gateway')
    // A real copy out of the tarball, not a link back into the repository.
    expect(lstatSync(installedLayer).isSymbolicLink()).toBe(false)
    expect(realpathSync(installedLayer).startsWith(realpathSync(app))).toBe(true)
    expect(JSON.parse(readFileSync(join(installedLayer, 'package.json'), 'utf8')).version).toBe(layerPackage.version)
    expect(existsSync(join(installedLayer, 'tests'))).toBe(false)
    installed = true
  }, 2 * INSTALL_TIMEOUT + 30_000)

  it('builds with a page prerendered from Cockpit through the moved routes, and no secret in the output', async () => {
    expect(installed, 'install failed').toBe(true)
    emulator.clearRequests()
    const env = cleanEnv({ ...cockpitEnv, NUXT_SESSION_PASSWORD: SESSION_PASSWORD })
    const { code, output } = await run('npx', ['nuxt', 'build'], { cwd: app, env, timeout: BUILD_TIMEOUT }).done
    expect(code, output.slice(-6000)).toBe(0)
    // The layer's own build step ran from node_modules and checked every secret it was given.
    expect(output).toMatch(/Leak check: no secret in \.output\/public \(\d+ secrets? checked\)/)
    for (const secret of [...SECRETS, ALICE_PASSWORD]) expect(output).not.toContain(secret)

    // Prerendering read Cockpit through the gateway (read key, the app's request hook) and baked the list in.
    const reads = emulator.requests.filter(request => request.method === 'GET' && request.path === '/api/content/items/posts')
    expect(reads.length).toBeGreaterThan(0)
    expect(reads.every(request => request.headers['x-audit'] === 'consumer' && request.headers['api-key'] === KEYS.read)).toBe(true)
    const page = readFileSync(join(app, '.output/public/index.html'), 'utf8')
    expect(page).toContain('Hello Cockpit')
    // The composables are told where the routes moved (public config), and nothing points at the default prefix.
    expect(page).toContain('cockpitGateway:{prefix:"/cms"')
    expect(page).not.toContain('/api/cockpit')

    // The bundle was made from the installed package, never from the repository's sources.
    const serverFiles = listFiles(join(app, '.output/server'))
    expect(serverFiles.filter(file => readFileSync(join(app, '.output/server', file), 'utf8').includes(ROOT))).toEqual([])
    built = true
    // What the build registered as the app's auto-imports, read before the typecheck below rewrites `.nuxt`.
    appImports = readFileSync(join(app, '.nuxt/types/imports.d.ts'), 'utf8')
    serverImports = readFileSync(join(app, '.nuxt/types/nitro-imports.d.ts'), 'utf8')

    // `nuxi typecheck` rewrites only `.nuxt`: it runs beside the server tests and is awaited at the end.
    typecheck = run('npx', ['nuxi', 'typecheck'], { cwd: app, env: cleanEnv(), timeout: TYPECHECK_TIMEOUT })
  }, BUILD_TIMEOUT + 30_000)

  it('gives the app exactly the documented public API as auto-imports, and none of the layer\'s internals', () => {
    expect(built, 'build failed').toBe(true)
    const server = layerAutoImports(serverImports)
    expect(server.values).toEqual([...PUBLIC_SERVER_UTILS, ...PUBLIC_SHARED].sort())
    expect(server.types).toEqual([...PUBLIC_SERVER_TYPES, ...PUBLIC_SHARED_TYPES].sort())
    const client = layerAutoImports(appImports)
    expect(client.values).toEqual([...PUBLIC_COMPOSABLES, ...PUBLIC_SHARED].sort())
    expect(client.types).toEqual([...PUBLIC_COMPOSABLE_TYPES, ...PUBLIC_SHARED_TYPES].sort())
    // A representative internal of each side, by name anywhere in the declarations (a rename of the layer's
    // path in them must not make this pass).
    for (const internal of ['cockpitJitter', 'encodeCockpitId', 'parseTrustProxy', 'serveCockpitItemList', 'readGatewayBody']) {
      expect(serverImports).not.toMatch(new RegExp(String.raw`\b${internal}\b`))
    }
    for (const internal of ['loginSchema', 'itemParamsSchema', 'COCKPIT_FILTER_OPERATORS']) {
      expect(appImports).not.toMatch(new RegExp(String.raw`\b${internal}\b`))
      expect(serverImports).not.toMatch(new RegExp(String.raw`\b${internal}\b`))
    }
  })

  describe('served by node .output/server/index.mjs', () => {
    beforeAll(async () => {
      if (!built) return
      emulator.clearRequests()
      const port = await getRandomPort('127.0.0.1')
      const cwd = join(work, 'run')
      mkdirSync(cwd)
      server = spawn(process.execPath, [join(app, '.output/server/index.mjs')], {
        cwd,
        env: cleanEnv({
          ...cockpitEnv,
          NODE_ENV: 'production',
          HOST: '127.0.0.1',
          PORT: String(port),
          NUXT_SESSION_PASSWORD: SESSION_PASSWORD,
          NUXT_COCKPIT_GATEWAY_AUTH_PROVIDER: 'demo-sso',
          NUXT_COCKPIT_GATEWAY_AUTH_ROLE_MAP: JSON.stringify({ 'sso-writers': 'writer' }),
          NUXT_COCKPIT_GATEWAY_AUTH_FAILURE_DELAY: '50',
          NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '3',
          NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_DELAY: '600',
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      server.stdout!.on('data', chunk => serverLogs.push(String(chunk)))
      server.stderr!.on('data', chunk => serverLogs.push(String(chunk)))
      const url = `http://127.0.0.1:${port}`
      const deadline = Date.now() + 30_000
      for (;;) {
        if (server.exitCode !== null) throw new Error(`server exited early:\n${serverLogs.join('')}`)
        const ready = await fetch(`${url}/api/_auth/session`).then(response => response.ok, () => false)
        if (ready) break
        if (Date.now() > deadline) throw new Error(`server did not start:\n${serverLogs.join('')}`)
        await new Promise(r => setTimeout(r, 100))
      }
      gateway = { url, origin: url, port, emulator, logs: serverLogs, secrets: SECRETS, stop: () => stopProcess(server) }
    })

    const browser = () => new TestBrowser(gateway, exchanges)

    it('serves anonymous reads under the app\'s prefix, and nothing under the default one', async (ctx) => {
      if (!built) return ctx.skip()
      const list = await browser().request('/cms/items/posts')
      expect(list.status).toBe(200)
      const body = list.json()
      expect(Object.keys(body).sort()).toEqual(['items', 'total'])
      expect(body.items.map((post: { title: string }) => post.title)).toContain('Hello Cockpit')
      expect(body.total).toBe(body.items.length)

      // The page prerendered at build time is served as is.
      const home = await browser().request('/')
      expect(home.status).toBe(200)
      expect(home.text).toContain('Hello Cockpit')

      const moved = await browser().request('/api/cockpit/items/posts')
      expect(moved.status).toBe(404)
      expect(moved.text).not.toContain('Hello Cockpit')
    })

    it('logs in through the app\'s own identity provider, with the role map applied', async (ctx) => {
      if (!built) return ctx.skip()
      const wrong = await browser().request('/api/auth/login', { json: { username: 'alice', password: 'not-her-password' } })
      expect(wrong.status).toBe(401)
      expect(wrong.json().data.code).toBe('INVALID_CREDENTIALS')

      const alice = browser()
      const login = await alice.request('/api/auth/login', { json: { username: 'alice', password: ALICE_PASSWORD } })
      expect(login.status).toBe(200)
      expect(login.json().user).toEqual({ id: 'sso:alice', name: 'Alice', role: 'writer' })
      // The app's own route, typed with the layer's `User`, sees the same session.
      const me = await alice.request('/api/whoami')
      expect(me.status).toBe(200)
      expect(me.json()).toEqual({ name: 'Alice', role: 'writer' })
    })

    it('counts every spelling the app\'s provider calls one account in one login limit', async (ctx) => {
      if (!built) return ctx.skip()
      // The provider's canonicalUsername folds case and its own domain: `carol`'s three free failures are spent
      // through three spellings, and a fourth spelling waits.
      for (const spelling of ['carol', 'Carol@sso.example', 'CAROL']) {
        expect((await browser().request('/api/auth/login', { json: { username: spelling, password: 'guess' } })).status, spelling).toBe(401)
      }
      const refused = await browser().request('/api/auth/login', { json: { username: 'carol@SSO.example', password: 'guess' } })
      expect(refused.status).toBe(429)
      expect(refused.json().data.retryAfter).toBeGreaterThan(590)
    })

    it('lets the app\'s policy decide writes, and sends them with the app\'s request hook', async (ctx) => {
      if (!built) return ctx.skip()
      const alice = browser()
      await alice.login('alice', ALICE_PASSWORD)
      const before = emulator.requests.length
      const created = await alice.request('/cms/items/posts', { json: { title: 'Written by the consumer', published: false } })
      expect(created.status, created.text).toBe(201)
      const item = created.json()
      expect(item).toMatchObject({ title: 'Written by the consumer', published: false })
      const write = emulator.requests.slice(before).find(request => request.method === 'POST' && request.path === '/api/content/item/posts')
      expect(write, 'Cockpit saw no write').toBeDefined()
      expect(write!.headers['x-audit']).toBe('consumer')
      expect(write!.headers['api-key']).toBe(KEYS.write)
      expect(JSON.parse(write!.body!).data.title).toBe('Written by the consumer')

      // `update: ['writer']` in the app's model, not the demo's `['admin', 'owner']`.
      const updated = await alice.request(`/cms/items/posts/${item._id}`, { method: 'PATCH', json: { title: 'Edited by the consumer', published: false } })
      expect(updated.status, updated.text).toBe(200)
      expect(updated.json().title).toBe('Edited by the consumer')

      // Bob's SSO group is not in the role map: guest, which the app's policy does not let write.
      const bob = browser()
      const bobLogin = await bob.request('/api/auth/login', { json: { username: 'bob', password: BOB_PASSWORD } })
      expect(bobLogin.json().user.role).toBe('guest')
      const refused = await bob.request('/cms/items/posts', { json: { title: 'Not allowed', published: false } })
      expect(refused.status).toBe(403)
      expect(refused.json().data.code).toBe('FORBIDDEN')
      const anonymous = await browser().request('/cms/items/posts', { json: { title: 'Not allowed', published: false } })
      expect(anonymous.status).toBe(401)
    })

    it('knows only the models the app declared', async (ctx) => {
      if (!built) return ctx.skip()
      const secrets = await browser().request('/cms/items/secrets')
      expect(secrets.status).toBe(404)
      expect(secrets.json()).toMatchObject({ statusCode: 404, data: { code: 'MODEL_NOT_FOUND' } })
    })

    it('ran the app\'s response hook for every upstream call', async (ctx) => {
      if (!built) return ctx.skip()
      const audit = await browser().request('/api/audit-count')
      expect(audit.status).toBe(200)
      const { responses } = audit.json()
      expect(responses).toBeGreaterThan(0)
      // Every upstream call of this server (the log was cleared before it started) carried the request hook's
      // header, and was counted by the response hook.
      const upstream = emulator.requests
      expect(upstream.every(request => request.headers['x-audit'] === 'consumer')).toBe(true)
      expect(responses).toBe(upstream.length)
    })

    it('published no secret: public output, responses and logs', async (ctx) => {
      if (!built) return ctx.skip()
      const publicDir = join(app, '.output/public')
      const files = listFiles(publicDir)
      expect(files).toContain('index.html')
      const leaking = files.filter((file) => {
        const contents = readFileSync(join(publicDir, file))
        return [...SECRETS, ALICE_PASSWORD, BOB_PASSWORD].some(secret => contents.includes(secret))
      })
      expect(leaking).toEqual([])
      expect(exchanges.length).toBeGreaterThan(0)
      expect(findLeaks([...SECRETS, ALICE_PASSWORD, BOB_PASSWORD], exchanges, serverLogs)).toEqual([])
    })
  })

  it('typechecks: the app gets typed composables and a typed `User` from the package alone', async () => {
    expect(typecheck, 'no build, no typecheck').toBeDefined()
    const { code, output } = await typecheck!.done
    expect(code, output.slice(-6000)).toBe(0)
    expect(output).not.toMatch(/error TS\d+/)
  }, TYPECHECK_TIMEOUT + 30_000)

  it('typechecks for real: each proof the app makes fails once its `@ts-expect-error` is taken away', async () => {
    expect(typecheck, 'no build, no typecheck').toBeDefined()
    // Without this, a typecheck that skipped the proof files, or saw `any` everywhere, would pass as well.
    const expected: string[] = []
    for (const file of ['app/type-proofs.ts', 'server/type-proofs.ts']) {
      const lines = readFileSync(join(app, file), 'utf8').split('\n')
      lines.forEach((line, index) => {
        if (line.startsWith('// @ts-expect-error')) expected.push(`${file}(${index + 2})`)
      })
      writeFileSync(join(app, file), lines.map(line => line.replace(/^\/\/ @ts-expect-error/, '// expected:')).join('\n'))
    }
    expect(expected.length).toBeGreaterThanOrEqual(6)
    const { code, output } = await run('npx', ['nuxi', 'typecheck'], { cwd: app, env: cleanEnv(), timeout: TYPECHECK_TIMEOUT }).done
    expect(code).not.toBe(0)
    const failing = [...new Set([...output.matchAll(/^([\w/.-]+)\((\d+),\d+\): error TS\d+/gm)].map(([, file, line]) => `${file}(${line})`))]
    expect(failing.sort()).toEqual(expected.sort())
  }, TYPECHECK_TIMEOUT + 30_000)
})
