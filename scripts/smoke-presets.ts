// `npm run test:presets`: builds the demo for every Nitro preset the layer claims to support and runs each
// build on its own runtime (Node, Bun, Deno, workerd, and the Vercel and Netlify function entries) against
// the Cockpit emulator: anonymous read, login, save, update, logout + revoked cookie, a 429 with
// Retry-After, and a leak scan. Prints built / started / smoke per preset and exits 1 if any FAILED.
// A preset whose runtime cannot be installed or run here is NOT RUN (with the reason) and does not fail.
//
// Usage: tsx scripts/smoke-presets.ts [preset …] [--skip-build] [--out DIR] [--tools DIR]
//   presets: node-server bun deno_server cloudflare_module vercel netlify (default: all)
//   --skip-build  reuse the builds already in --out (default: $TMPDIR/cockpit-gateway-presets)
//   --tools       where runtime packages are installed (default: $TMPDIR/cockpit-gateway-runtimes)
// Builds run one after another (prerendering reads from the emulator running in this process, so each
// build is an async child); each build's smoke runs while the next one builds.
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { getRandomPort } from 'get-port-please'
import Redis from 'ioredis'
import { EMULATOR_KEYS, startEmbeddedCockpit } from './embedded-cockpit'
import { TEST_SESSION_PASSWORD } from '../tests/support/gateway-server'
import type { RunningGateway } from '../tests/support/gateway-server'
import { ensureTool, PRESET_TARGETS, RUNTIME_TOOLS } from '../tests/smoke/presets'
import type { PresetTarget, StartedTarget } from '../tests/smoke/presets'
import { runSharedStateChecks, runSmokeChecks, SMOKE_RUNTIME_ENV } from '../tests/smoke/smoke-checks'
import type { SmokeCheck } from '../tests/smoke/smoke-checks'

const ROOT = resolve(import.meta.dirname, '..')

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'skip-build': { type: 'boolean', default: false },
    'out': { type: 'string', default: join(tmpdir(), 'cockpit-gateway-presets') },
    'tools': { type: 'string', default: join(tmpdir(), 'cockpit-gateway-runtimes') },
  },
})
const unknown = positionals.filter(name => !PRESET_TARGETS.some(t => t.preset === name))
if (unknown.length) {
  console.error(`unknown preset(s): ${unknown.join(', ')} (known: ${PRESET_TARGETS.map(t => t.preset).join(', ')})`)
  process.exit(2)
}
const targets = positionals.length ? PRESET_TARGETS.filter(t => positionals.includes(t.preset)) : PRESET_TARGETS
const outRoot = resolve(values.out)
mkdirSync(outRoot, { recursive: true })

type Outcome = 'passed' | 'FAILED' | 'NOT RUN'
interface PresetReport {
  target: PresetTarget
  built?: string
  started?: string
  outcome: Outcome
  reason?: string
  checks?: string
}

const started = Date.now()
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`
const log = (message: string) => console.log(`[presets ${seconds(started).padStart(7)}] ${message}`)

// Builds into other folders still resolve the app's tsconfig through `.nuxt/tsconfig.*.json`: a fresh clone needs them.
if (!existsSync(join(ROOT, '.nuxt', 'tsconfig.app.json'))) {
  log('generating .nuxt types (nuxt prepare)')
  if (spawnSync('npx', ['nuxt', 'prepare'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) {
    console.error('nuxt prepare failed')
    process.exit(1)
  }
}

const { emulator, env: cockpitEnv } = await startEmbeddedCockpit(2)
log(`Cockpit emulator (v2) on ${emulator.url}; builds in ${outRoot}`)

// Runtime packages: installed (or found) while the first builds run.
const toolsWanted = [...new Set(targets.map(t => t.tool).filter(t => t !== undefined))]
const tools = new Map(toolsWanted.map(name => [name, ensureTool(RUNTIME_TOOLS[name], values.tools).then(
  (dir) => {
    log(`runtime ${RUNTIME_TOOLS[name].pkg}@${RUNTIME_TOOLS[name].version} ready`)
    return dir
  },
)]))
for (const pending of tools.values()) pending.catch(() => {})

const redis = await provideRedis()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([redis?.close(), emulator.close()]).then(() => process.exit(130))
  })
}
if (targets.some(t => t.redis)) log(redis ? `Redis for the function presets: ${redis.describe}` : 'no Redis (no TEST_REDIS_URL, no redis-server): function presets run on the fs `data` mount')

/** Builds one preset into its own folder; resolves to an error message or undefined. */
async function build(target: PresetTarget, outDir: string): Promise<string | undefined> {
  const logFile = `${outDir}-build.log`
  const stream = createWriteStream(logFile)
  const child = spawn('npx', ['nuxt', 'build'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...cockpitEnv, NITRO_PRESET: target.preset, DEMO_OUTPUT_DIR: outDir },
  })
  child.stdout.pipe(stream)
  child.stderr.pipe(stream)
  const code = await new Promise<number | null>((done) => {
    child.on('exit', done)
    child.on('error', () => done(null))
  })
  await new Promise(done => stream.end(done))
  if (code === 0) return undefined
  const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n')
  return `nuxt build exited ${code} (log: ${logFile})\n${tail}`
}

/** Polls until the target answers its session route (or dies, or 60 s pass). */
async function waitUntilUp(url: string, running: StartedTarget): Promise<void> {
  let exitCode: number | null | undefined
  void running.exited?.then((code) => {
    exitCode = code
  })
  const deadline = Date.now() + 60_000
  for (;;) {
    if (exitCode !== undefined) throw new Error(`exited (code ${exitCode}) before answering`)
    try {
      const response = await fetch(`${url}/api/_auth/session`)
      if (response.ok) return
    }
    catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('did not answer /api/_auth/session within 60 s')
    await new Promise(r => setTimeout(r, 150))
  }
}

/** Starts a built preset, runs the smoke checks against it, stops it. */
async function smoke(target: PresetTarget, outDir: string, report: PresetReport): Promise<void> {
  let toolDir: string | undefined
  if (target.tool) {
    try {
      toolDir = await tools.get(target.tool)!
    }
    catch (error) {
      report.outcome = 'NOT RUN'
      report.reason = (error as Error).message
      return
    }
  }
  const port = await getRandomPort('127.0.0.1')
  const url = `http://127.0.0.1:${port}`
  const keys = EMULATOR_KEYS[2]
  const env: Record<string, string> = {
    ...cockpitEnv,
    NUXT_SESSION_PASSWORD: TEST_SESSION_PASSWORD,
    ...SMOKE_RUNTIME_ENV,
    ...target.env,
    ...(target.redis && redis ? { NUXT_COCKPIT_GATEWAY_REDIS_URL: await redis.database(target.preset) } : {}),
  }
  if (target.preset === 'deno_server') rmSync(join(outDir, '.data'), { recursive: true, force: true })
  const startedAt = Date.now()
  let running: StartedTarget | undefined
  try {
    running = await target.start({ outDir, toolDir, env, port })
    await waitUntilUp(url, running)
  }
  catch (error) {
    report.outcome = 'FAILED'
    report.reason = `did not start: ${(error as Error).message}\n${(running?.logs ?? []).join('').trim().split('\n').slice(-15).join('\n')}`
    await running?.stop()
    return
  }
  report.started = seconds(startedAt)
  const gateway: RunningGateway = {
    url,
    origin: url,
    port,
    emulator,
    logs: running.logs,
    secrets: [keys.read, keys.write, TEST_SESSION_PASSWORD],
    stop: () => running.stop(),
  }
  const smokeAt = Date.now()
  const checks = await runSmokeChecks(gateway, target.preset)
  const { isolates } = running
  if (isolates && checks.every(c => c.ok)) {
    // Cloudflare: the same checks on the isolate left on the default store, then two isolates sharing one.
    const at = (isolate: string): RunningGateway => ({ ...gateway, url: isolate, origin: isolate })
    const named = (prefix: string) => (c: SmokeCheck) => ({ ...c, name: `${prefix}: ${c.name}` })
    checks.push(...(await runSmokeChecks(at(isolates.perIsolate), `${target.preset}-default`)).map(named('per-isolate default')))
    if (checks.every(c => c.ok)) checks.push(...(await runSharedStateChecks(at(isolates.first), at(isolates.second), target.preset)).map(named('two isolates, one Durable Object store')))
  }
  await running.stop()
  const failed = checks.find(c => !c.ok)
  report.checks = `${checks.filter(c => c.ok).length} checks in ${seconds(smokeAt)}`
  if (failed) {
    report.outcome = 'FAILED'
    report.reason = `${failed.name}: ${failed.detail}\n--- server output (last lines)\n${running.logs.join('').trim().split('\n').slice(-20).join('\n')}`
  }
  else {
    report.outcome = 'passed'
  }
}

const reports: PresetReport[] = targets.map(target => ({ target, outcome: 'FAILED' }))
const smokes: Promise<void>[] = []
let smokeChain = Promise.resolve()
for (const report of reports) {
  const { target } = report
  const outDir = join(outRoot, target.preset)
  if (values['skip-build']) {
    if (!existsSync(outDir)) {
      report.reason = `--skip-build, but there is no build in ${outDir}`
      continue
    }
    report.built = 'reused'
  }
  else {
    log(`${target.preset}: building`)
    const buildAt = Date.now()
    const error = await build(target, outDir)
    if (error) {
      report.reason = `build failed: ${error}`
      log(`${target.preset}: build FAILED`)
      continue
    }
    report.built = seconds(buildAt)
    log(`${target.preset}: built in ${report.built}`)
  }
  // Smokes run one at a time, while the next preset builds.
  smokeChain = smokeChain.then(async () => {
    log(`${target.preset}: starting on ${target.runtime}`)
    await smoke(target, outDir, report).catch((error) => {
      report.outcome = 'FAILED'
      report.reason = `smoke crashed: ${(error as Error).stack}`
    })
    log(`${target.preset}: ${report.outcome}${report.reason ? ` (${report.reason.split('\n')[0]})` : ''}`)
  })
  smokes.push(smokeChain)
}
await Promise.all(smokes)
await emulator.close()
await redis?.close()

console.log('\npreset               built      started    smoke')
for (const r of reports) {
  const smokeText = r.outcome === 'passed' ? `passed (${r.checks})` : `${r.outcome}${r.reason ? `: ${r.reason.split('\n')[0]}` : ''}`
  console.log(`${r.target.preset.padEnd(20)} ${(r.built ?? '-').padEnd(10)} ${(r.started ?? '-').padEnd(10)} ${smokeText}`)
  console.log(`${''.padEnd(20)} on ${r.target.runtime}; state: ${r.target.redis && !redis ? 'data (fs), no Redis here' : r.target.storage}`)
}
for (const r of reports.filter(r => r.outcome !== 'passed' && r.reason?.includes('\n'))) {
  console.log(`\n--- ${r.target.preset}: ${r.outcome}\n${r.reason}`)
}
const failed = reports.filter(r => r.outcome === 'FAILED')
const notRun = reports.filter(r => r.outcome === 'NOT RUN')
console.log(`\n${failed.length ? 'FAILED' : 'passed'}: ${reports.length - failed.length - notRun.length} passed, ${failed.length} failed, ${notRun.length} not run, in ${seconds(started)}`)
process.exit(failed.length ? 1 : 0)

/**
 * A Redis for the function presets (their production storage): `TEST_REDIS_URL` (what `.ci/run` starts) or
 * a `redis-server` started here on a free loopback port; null when neither exists. Each preset gets a
 * database of its own, emptied first, so rate-limit buckets of earlier runs do not carry over.
 */
async function provideRedis(): Promise<{ describe: string, database(preset: string): Promise<string>, close(): Promise<void> } | null> {
  if (!targets.some(t => t.redis)) return null
  let base = process.env.TEST_REDIS_URL
  let stop = async () => {}
  if (!base) {
    if (spawnSync('redis-server', ['--version']).status !== 0) return null
    const port = await getRandomPort('127.0.0.1')
    const dir = mkdtempSync(join(tmpdir(), 'cg-smoke-redis-'))
    const pidfile = join(dir, 'redis.pid')
    const run = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--save', '', '--appendonly', 'no', '--pidfile', pidfile, '--dir', dir])
    if (run.status !== 0) return null
    for (let i = 0; i < 50 && !existsSync(pidfile); i++) await new Promise(r => setTimeout(r, 100))
    base = `redis://127.0.0.1:${port}`
    stop = async () => {
      const pid = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) : 0
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM')
        }
        catch { /* already gone */ }
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const url = new URL(base)
  // High database numbers, away from the 0 the other suites use on a shared TEST_REDIS_URL.
  const databases = new Map(PRESET_TARGETS.filter(t => t.redis).map((t, i) => [t.preset, 14 - i]))
  return {
    describe: `${url.host}${process.env.TEST_REDIS_URL ? ' (TEST_REDIS_URL)' : ' (started here)'}, one database per preset`,
    async database(preset) {
      url.pathname = `/${databases.get(preset) ?? 13}`
      const client = new Redis(url.href, { lazyConnect: true, maxRetriesPerRequest: 1 })
      try {
        await client.connect()
        await client.flushdb()
      }
      finally {
        client.disconnect()
      }
      return url.href
    },
    close: stop,
  }
}
