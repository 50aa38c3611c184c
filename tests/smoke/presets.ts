import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { DURABLE_SMOKE_ENV } from './smoke-checks'

const HERE = dirname(fileURLToPath(import.meta.url))

/** A runtime that ships as an npm package with its binary (installed on demand, never saved to package.json). */
export interface RuntimeTool {
  pkg: string
  /** Pinned, so a run is reproducible; bump deliberately. */
  version: string
  /** Its executable under `node_modules/.bin`. */
  bin: string
}

export const RUNTIME_TOOLS = {
  bun: { pkg: 'bun', version: '1.4.5', bin: 'bun' },
  deno: { pkg: 'deno', version: '2.9.6', bin: 'deno' },
  // Miniflare runs the worker in workerd, the Workers runtime, with local KV: no network, no account.
  miniflare: { pkg: 'miniflare', version: '4.20260730.0', bin: 'workerd' },
} as const satisfies Record<string, RuntimeTool>

/** What a target needs to start: the build, its runtime (if any), the run-time env and a port. */
export interface StartContext {
  outDir: string
  /** Install prefix of the target's {@link RuntimeTool}. */
  toolDir?: string
  env: Record<string, string>
  port: number
}

/** A started target: its output so far, and how to stop it. */
export interface StartedTarget {
  logs: string[]
  /** Rejects if the process exits while still expected to run. */
  exited?: Promise<number | null>
  stop(): Promise<void>
  /**
   * Cloudflare: more isolates of the same build in the same runtime, each on its own URL: `first` and
   * `second` bound to one Durable Object namespace, `perIsolate` without the binding (the default store).
   */
  isolates?: { first: string, second: string, perIsolate: string }
}

/** One deploy target of the smoke suite. */
export interface PresetTarget {
  /** `NITRO_PRESET` of the build. */
  preset: string
  /** What serves the output here, for the report. */
  runtime: string
  /** Storage of the gateway's state on this target, for the report. */
  storage: string
  tool?: keyof typeof RUNTIME_TOOLS
  /** This target runs with Redis (the production storage of short-lived functions) when one is available. */
  redis?: boolean
  /** Run-time env of this target only, on top of the common one. */
  env?: Record<string, string>
  start(ctx: StartContext): Promise<StartedTarget>
}

/** Runs a server process with only the given env (nothing inherited but PATH and HOME), capturing its output. */
function startProcess(command: string, args: string[], env: Record<string, string>, cwd: string): StartedTarget {
  const logs: string[] = []
  const child: ChildProcess = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout!.on('data', chunk => logs.push(String(chunk)))
  child.stderr!.on('data', chunk => logs.push(String(chunk)))
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', code => resolve(code))
    child.once('error', (error) => {
      logs.push(`spawn failed: ${error.message}`)
      resolve(null)
    })
  })
  return {
    logs,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const stopped = await Promise.race([exited.then(() => true), new Promise(r => setTimeout(r, 5000, false))])
      if (!stopped) child.kill('SIGKILL')
    },
  }
}

/** A fresh working directory, so a server's relative `.data` starts empty. */
function freshCwd(): string {
  return mkdtempSync(join(tmpdir(), 'cg-smoke-cwd-'))
}

const listenEnv = (port: number) => ({ HOST: '127.0.0.1', PORT: String(port) })

/** Every preset the layer claims to support, in the order they are built. */
export const PRESET_TARGETS: PresetTarget[] = [
  {
    preset: 'node-server',
    runtime: `node ${process.version}`,
    storage: 'memory + data (fs)',
    async start({ outDir, env, port }) {
      return startProcess(process.execPath, [join(outDir, 'server/index.mjs')], { ...env, ...listenEnv(port) }, freshCwd())
    },
  },
  {
    preset: 'bun',
    runtime: `bun ${RUNTIME_TOOLS.bun.version}`,
    storage: 'memory + data (fs)',
    tool: 'bun',
    async start({ outDir, toolDir, env, port }) {
      return startProcess(toolBin(toolDir!, 'bun'), ['run', join(outDir, 'server/index.mjs')], { ...env, ...listenEnv(port) }, freshCwd())
    },
  },
  {
    preset: 'deno_server',
    runtime: `deno ${RUNTIME_TOOLS.deno.version}`,
    storage: 'memory + data (fs)',
    tool: 'deno',
    async start({ outDir, toolDir, env, port }) {
      // The preset's own start task (deno.json beside the output), with its permission flags.
      return startProcess(toolBin(toolDir!, 'deno'), ['task', '--config', join(outDir, 'deno.json'), 'start'], {
        ...env,
        ...listenEnv(port),
        DENO_NO_UPDATE_CHECK: '1',
      }, outDir)
    },
  },
  {
    preset: 'cloudflare_module',
    runtime: `workerd (miniflare ${RUNTIME_TOOLS.miniflare.version})`,
    storage: 'Durable Object GATEWAY_DO (limits, state; 2 isolates) + a 3rd isolate on the default: KV GATEWAY_STATE + per-isolate memory',
    tool: 'miniflare',
    env: DURABLE_SMOKE_ENV,
    start: startMiniflare,
  },
  {
    preset: 'vercel',
    runtime: `node ${process.version}: functions/__fallback.func (Node listener) on node:http`,
    storage: 'Redis',
    redis: true,
    async start({ outDir, env, port }) {
      return startProcess(process.execPath, [join(HERE, 'serve-function.mjs'), 'node-listener', join(outDir, 'functions/__fallback.func/index.mjs'), String(port)], env, freshCwd())
    },
  },
  {
    preset: 'netlify',
    runtime: `node ${process.version}: server/main.mjs (Functions v2 handler) on node:http`,
    storage: 'Redis',
    redis: true,
    async start({ outDir, env, port }) {
      return startProcess(process.execPath, [join(HERE, 'serve-function.mjs'), 'fetch-handler', join(outDir, 'server/main.mjs'), String(port)], env, freshCwd())
    },
  },
]

/** Path of a tool's executable in its install prefix. */
export function toolBin(toolDir: string, bin: string): string {
  return join(toolDir, 'node_modules/.bin', bin)
}

/**
 * Installs a runtime package into its own prefix under `cacheDir` (reused when present) with the ordinary
 * npm client, and checks that its binary runs here. Throws with a one-line reason otherwise.
 * @param tool what to install
 * @param cacheDir parent of the install prefixes
 */
export async function ensureTool(tool: RuntimeTool, cacheDir: string): Promise<string> {
  const dir = resolve(cacheDir, `${tool.pkg}@${tool.version}`)
  const bin = toolBin(dir, tool.bin)
  if (!existsSync(bin)) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n')
    const output: string[] = []
    const code = await new Promise<number | null>((done) => {
      const child = spawn('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', `${tool.pkg}@${tool.version}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
      child.stdout.on('data', chunk => output.push(String(chunk)))
      child.stderr.on('data', chunk => output.push(String(chunk)))
      child.on('exit', done)
      child.on('error', () => done(null))
    })
    const reason = output.join('').split('\n').map(line => line.trim()).filter(line => /error/i.test(line)).slice(0, 2).join(' / ')
    if (code !== 0) throw new Error(`npm install ${tool.pkg}@${tool.version} failed (exit ${code}): ${reason || 'no output'}`)
    if (!existsSync(bin)) throw new Error(`npm install ${tool.pkg}@${tool.version} left no ${tool.bin} binary (no prebuilt binary for ${process.platform}-${process.arch}?)`)
  }
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 })
  if (probe.status !== 0) throw new Error(`${tool.bin} --version failed here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim().split('\n')[0]}`)
  if (tool.pkg === 'miniflare') await probeWorkerd(dir)
  return dir
}

async function loadMiniflare(toolDir: string) {
  return await import(pathToFileURL(join(toolDir, 'node_modules/miniflare/dist/src/index.js')).href) as {
    Miniflare: new (options: Record<string, unknown>) => MiniflareInstance
  }
}

/** A hello-world worker: if even this cannot run, the sandbox cannot host workerd (NOT RUN, not FAILED). */
async function probeWorkerd(toolDir: string): Promise<void> {
  const { Miniflare } = await loadMiniflare(toolDir)
  const mf = new Miniflare({ modules: true, script: 'export default { fetch: () => new Response("ok") }', compatibilityDate: '2025-07-15' })
  try {
    const response = await mf.dispatchFetch('http://probe.local/')
    if (await response.text() !== 'ok') throw new Error('unexpected answer')
  }
  catch (error) {
    throw new Error(`workerd cannot run a worker here: ${(error as Error).message.split('\n')[0]}`, { cause: error })
  }
  finally {
    await mf.dispose().catch(() => {})
  }
}

/** The subset of Miniflare's API used here (it is loaded from the tool prefix, untyped). */
interface MiniflareInstance {
  ready: Promise<URL>
  dispatchFetch(url: string): Promise<Response>
  unsafeGetDirectURL(workerName: string): Promise<URL>
  dispose(): Promise<void>
}

/**
 * Runs the worker the way Cloudflare would, in workerd through Miniflare's API: the ES module entry and its
 * chunks, `nodejs_compat`, the app's compatibility date, the env as plain-text vars, an in-memory KV
 * namespace bound as GATEWAY_STATE (what the demo's cloudflare build mounts for the gateway's state) and the
 * layer's Durable Object class bound as GATEWAY_DO. Three workers of the one build, each its own isolate:
 * `gateway` (the main port, and the class's home), `gateway-b` bound to the same namespace (so both reach
 * the same objects), and `gateway-default` with neither the binding nor its env: the per-isolate default.
 */
async function startMiniflare({ outDir, toolDir, env, port }: StartContext): Promise<StartedTarget> {
  const { Miniflare } = await loadMiniflare(toolDir!)
  const serverDir = join(outDir, 'server')
  const chunks = readdirSync(serverDir, { recursive: true }).map(String)
    .filter(file => file.endsWith('.mjs') && file !== 'index.mjs')
  const logs: string[] = []
  const binding = DURABLE_SMOKE_ENV.NUXT_COCKPIT_GATEWAY_DURABLE_OBJECT_BINDING
  const worker = (name: string, bindings: Record<string, string>, durableObjects: Record<string, unknown>) => ({
    name,
    modulesRoot: serverDir,
    // The entry first: workerd runs the first module.
    modules: ['index.mjs', ...chunks].map(file => ({ type: 'ESModule', path: join(serverDir, file) })),
    compatibilityDate: '2025-07-15',
    compatibilityFlags: ['nodejs_compat'],
    bindings,
    kvNamespaces: ['GATEWAY_STATE'],
    durableObjects,
    // A socket of its own, straight to the worker: the burst names its client in cf-connecting-ip.
    unsafeDirectSockets: [{ host: '127.0.0.1' }],
  })
  const defaultEnv = Object.fromEntries(Object.entries(env).filter(([name]) => !(name in DURABLE_SMOKE_ENV)))
  const mf = new Miniflare({
    workers: [
      worker('gateway', env, { [binding]: 'CockpitGatewayState' }),
      worker('gateway-b', env, { [binding]: { className: 'CockpitGatewayState', scriptName: 'gateway' } }),
      worker('gateway-default', defaultEnv, {}),
    ],
    host: '127.0.0.1',
    port,
    handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
      stdout.on('data', chunk => logs.push(String(chunk)))
      stderr.on('data', chunk => logs.push(String(chunk)))
    },
  })
  let isolates: StartedTarget['isolates']
  try {
    await mf.ready
    const url = async (name: string) => (await mf.unsafeGetDirectURL(name)).href.replace(/\/$/, '')
    isolates = { first: await url('gateway'), second: await url('gateway-b'), perIsolate: await url('gateway-default') }
  }
  catch (error) {
    await mf.dispose().catch(() => {})
    throw new Error(`workerd did not start: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}\n${logs.join('')}`, { cause: error })
  }
  return { logs, isolates, stop: () => mf.dispose() }
}
