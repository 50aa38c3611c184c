// The gateway benchmark (`npm run bench`, after `npx tsx scripts/build-demo.ts`): the built gateway against
// the few lines of Nitro or Node it replaces, every server in front of the same upstream stub, measured side
// by side in interleaved rounds with autocannon; plus "one upstream call per cache expiry" and memory
// growth. Prints a table and writes it at the top of bench/results.md. Read the ratios, not the absolute
// numbers: the machine is shared. Knobs (env):
//   BENCH_ROUNDS (3), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_CONNECTIONS (50),
//   BENCH_EXPIRY_DURATION (6 s), BENCH_MEMORY_REQUESTS (200000), BENCH_RESULTS (bench/results.md),
//   BENCH_ONLY (comma list of variant ids, `expiry`, `memory`), BENCH_CPU_PROF (dir: the main gateway runs
//   with --cpu-prof), BENCH_LABEL (a name for the results section, e.g. "before"), DEMO_OUTPUT_DIR (the build).
// Exit code 0 whatever the targets say; 1 when a measurement had errors or non-2xx answers; 2 on bad knobs.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import type { StubRoute } from './upstream-stub'
import { readKnob } from './lib/knobs'
import { cleanUp, makeTempDir, readCpuMicros, readRssBytes, runProcess } from './lib/processes'
import { formatSection, hasInvalidRows, prependSection } from './lib/report'
import type { BenchReport, ExpiryFigures, MemoryFigures, VariantFigures, WindowFigures } from './lib/report'
import { GATEWAY_ENTRY, readKey, localUsers, startGateway, startNodeServer, startStub, writeKey } from './lib/servers'
import type { Server, Session } from './lib/servers'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BENCH = join(ROOT, 'bench')

const knob = (name: string, fallback: number, integer = false) => readKnob('bench', name, fallback, integer ? 'non-negative integer' : 'non-negative')

const ROUNDS = Math.max(1, knob('BENCH_ROUNDS', 3, true))
const DURATION = knob('BENCH_DURATION', 10)
const WARMUP = knob('BENCH_WARMUP', 2)
const CONNECTIONS = Math.max(1, knob('BENCH_CONNECTIONS', 50, true))
const EXPIRY_DURATION = knob('BENCH_EXPIRY_DURATION', 6)
const MEMORY_REQUESTS = knob('BENCH_MEMORY_REQUESTS', 200_000, true)
const RESULTS = resolve(process.env.BENCH_RESULTS || join(BENCH, 'results.md'))
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined
const LABEL = process.env.BENCH_LABEL?.trim() || undefined
if (DURATION <= 0) {
  process.stderr.write('bench: BENCH_DURATION must be greater than 0\n')
  process.exit(2)
}

const STARTED = Date.now()

/** A progress line on stderr, with the seconds since the start. */
function progress(message: string): void {
  process.stderr.write(`[bench +${((Date.now() - STARTED) / 1000).toFixed(1)} s] ${message}\n`)
}

type ServerId = 'stub' | 'bare' | 'bare-http' | 'nitro-plain' | 'nitro-cached' | 'gateway'

/** One measured variant: a request shape against one server. */
interface Variant {
  id: string
  label: string
  server: ServerId
  method: 'GET' | 'POST'
  /** Path and query; `:item` is replaced with a known post id. */
  path: string
  session?: Session
  body?: string
  /** The check of one answer before the rounds: the variant measures what it claims to. */
  expect?: (response: Response) => string | undefined
}

const ITEM_ID = '6b0bc3c7686c82ffb095aa90'
const GATEWAY_LIST = '/api/cockpit/items/posts'
const cacheHeader = (response: Response) => response.headers.get('x-cockpit-gateway-cache') ? undefined : 'no x-cockpit-gateway-cache header: not a shared cached read'
const uncached = (response: Response) => /no-store/.test(response.headers.get('cache-control') ?? '') ? undefined : 'not answered as a private uncached read'

const VARIANTS: Variant[] = [
  { id: 'stub', label: 'upstream stub directly (list)', server: 'stub', method: 'GET', path: '/api/content/items/posts' },
  { id: 'bare-proxy', label: 'bare Node proxy (node:http + fetch adding the key), list', server: 'bare', method: 'GET', path: '/api/posts' },
  { id: 'bare-http', label: 'bare Node proxy on node:http keep-alive without fetch (as the gateway calls Cockpit on Node), list; for comparison, not a target', server: 'bare-http', method: 'GET', path: '/api/posts' },
  { id: 'nitro-plain', label: 'plain Nitro route (`$fetch` adding the key), list', server: 'nitro-plain', method: 'GET', path: '/api/posts' },
  { id: 'nitro-cached', label: 'Nitro `defineCachedEventHandler` (maxAge 60, swr), list', server: 'nitro-cached', method: 'GET', path: '/api/posts' },
  { id: 'gateway-anon', label: 'gateway, anonymous public list (cached)', server: 'gateway', method: 'GET', path: GATEWAY_LIST, expect: cacheHeader },
  { id: 'gateway-guest', label: 'gateway, logged-in guest, public list (cached)', server: 'gateway', method: 'GET', path: GATEWAY_LIST, session: 'guest', expect: cacheHeader },
  { id: 'gateway-editor', label: 'gateway, logged-in editor, list (uncached)', server: 'gateway', method: 'GET', path: GATEWAY_LIST, session: 'editor', expect: uncached },
  { id: 'gateway-item', label: 'gateway, anonymous, one item (cached)', server: 'gateway', method: 'GET', path: `${GATEWAY_LIST}/:item`, expect: cacheHeader },
  { id: 'gateway-create', label: 'gateway, create by the editor', server: 'gateway', method: 'POST', path: GATEWAY_LIST, session: 'editor', body: JSON.stringify({ title: 'Bench post', published: true }) },
  { id: 'bare-post', label: 'bare Node proxy, POST (create)', server: 'bare', method: 'POST', path: '/api/posts', body: JSON.stringify({ data: { title: 'Bench post', published: true } }) },
]
const EXTRA_IDS = ['expiry', 'memory']

function selected(): { variants: Variant[], expiry: boolean, memory: boolean } {
  const only = process.env.BENCH_ONLY?.split(',').map(id => id.trim()).filter(Boolean)
  if (!only?.length) return { variants: VARIANTS, expiry: true, memory: true }
  const unknown = only.filter(id => !VARIANTS.some(v => v.id === id) && !EXTRA_IDS.includes(id))
  if (unknown.length) {
    process.stderr.write(`bench: unknown BENCH_ONLY id(s) ${unknown.join(', ')}; known: ${[...VARIANTS.map(v => v.id), ...EXTRA_IDS].join(', ')}\n`)
    process.exit(2)
  }
  return { variants: VARIANTS.filter(v => only.includes(v.id)), expiry: only.includes('expiry'), memory: only.includes('memory') }
}

async function stubCalls(stub: Server): Promise<Record<StubRoute, number>> {
  const response = await fetch(`${stub.url}/__bench/calls`)
  return await response.json() as Record<StubRoute, number>
}

const totalCalls = (calls: Record<StubRoute, number>) => Object.values(calls).reduce((sum, n) => sum + n, 0)

async function buildNitroFixtures(names: string[]): Promise<Record<string, string>> {
  if (!names.length) return {}
  const dirs = names.map(name => makeTempDir(`cg-bench-${name}-`))
  await runProcess('Nitro fixture build', process.execPath, ['--import', 'tsx', join(BENCH, 'lib/build-nitro.ts'), ...names.flatMap((name, i) => [join(BENCH, 'fixtures', name), dirs[i]!])], { NODE_ENV: 'production' })
  return Object.fromEntries(names.map((name, i) => [name, join(dirs[i]!, 'server/index.mjs')]))
}

function requestOf(variant: Variant, server: Server): { url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: string } {
  const headers: Record<string, string> = {}
  if (variant.server === 'stub') headers['api-key'] = readKey
  if (variant.session) headers.cookie = server.cookies[variant.session]!
  if (variant.method === 'POST') {
    headers['content-type'] = 'application/json'
    headers.origin = server.url
  }
  return { url: `${server.url}${variant.path.replace(':item', ITEM_ID)}`, method: variant.method, headers, body: variant.body }
}

async function preflight(variant: Variant, server: Server): Promise<void> {
  const { url, ...init } = requestOf(variant, server)
  const response = await fetch(url, init)
  await response.arrayBuffer()
  if (!response.ok) throw new Error(`${variant.id}: the first request answered ${response.status}`)
  const problem = variant.expect?.(response)
  if (problem) throw new Error(`${variant.id}: ${problem}`)
}

function failuresOf(result: autocannon.Result): number {
  return result.non2xx + result.errors + result.timeouts
}

/** What the failures of a load run were: statuses other than 2xx, connection errors, timeouts. */
function describeFailures(result: autocannon.Result): string | undefined {
  if (!failuresOf(result)) return undefined
  const statuses = Object.entries(result.statusCodeStats ?? {}).filter(([status]) => !status.startsWith('2')).map(([status, { count }]) => `${count ?? 0}× ${status}`)
  // autocannon counts timeouts among the errors too.
  const errors = result.errors - result.timeouts
  return [...statuses, errors && `${errors} connection errors`, result.timeouts && `${result.timeouts} timeouts (10 s)`].filter(Boolean).join(', ')
}

/** The server's output since `from` (its log lines hold no secrets: the gateway never logs any). */
function serverSaid(server: Server, from: number): string {
  const lines = server.proc.output.slice(from).join('').trim().split('\n').filter(Boolean)
  return lines.length ? `; the server said: ${lines.slice(-5).join(' | ').slice(0, 1000)}` : ''
}

async function load(request: ReturnType<typeof requestOf>, options: { duration?: number, amount?: number, requests?: autocannon.Request[] }): Promise<autocannon.Result> {
  return await autocannon({ ...request, connections: CONNECTIONS, ...options })
}

async function measureWindow(variant: Variant, server: Server, stub: Server): Promise<WindowFigures> {
  const request = requestOf(variant, server)
  if (WARMUP > 0) await load(request, { duration: WARMUP })
  const callsBefore = totalCalls(await stubCalls(stub))
  const cpuBefore = readCpuMicros(server.proc.pid)
  const logged = server.proc.output.length
  const result = await load(request, { duration: DURATION })
  const cpuMicros = readCpuMicros(server.proc.pid) - cpuBefore
  const upstreamCalls = totalCalls(await stubCalls(stub)) - callsBefore
  const failureDetail = describeFailures(result)
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: failuresOf(result),
    failureDetail: failureDetail && `${failureDetail}${serverSaid(server, logged)}`,
    cpuMicros,
    upstreamCalls,
  }
}

async function measureExpiry(label: string, server: Server, path: string, stub: Server): Promise<ExpiryFigures> {
  // Cold: this server has never been asked for the list, so the first call is the cold miss.
  const before = (await stubCalls(stub)).list
  const result = await load({ url: `${server.url}${path}`, method: 'GET', headers: {} }, { duration: EXPIRY_DURATION })
  const calls = (await stubCalls(stub)).list - before
  return { label, maxAge: 1, seconds: result.duration, calls, requests: result.requests.total, failures: failuresOf(result), failureDetail: describeFailures(result) }
}

async function measureMemory(gateway: Server): Promise<MemoryFigures> {
  const base = { method: 'GET' as const, path: GATEWAY_LIST, headers: {} }
  const guest = { method: 'GET' as const, path: GATEWAY_LIST, headers: { cookie: gateway.cookies.guest! } }
  const editor = { method: 'GET' as const, path: GATEWAY_LIST, headers: { cookie: gateway.cookies.editor! } }
  const item = { method: 'GET' as const, path: `${GATEWAY_LIST}/${ITEM_ID}`, headers: {} }
  const create = { method: 'POST' as const, path: GATEWAY_LIST, headers: { 'cookie': gateway.cookies.editor!, 'content-type': 'application/json', 'origin': gateway.url }, body: JSON.stringify({ title: 'Memory post', published: true }) }
  // 100 requests per cycle, interleaved: 30 anonymous lists, 25 guest lists, 20 editor lists, 24 single items, 1 create.
  const mix: [autocannon.Request, number][] = [[base, 30], [guest, 25], [editor, 20], [item, 24], [create, 1]]
  const cycle: autocannon.Request[] = []
  for (let i = 0; cycle.length < 100; i++) {
    for (const [request, count] of mix) if (i < count) cycle.push(request)
  }
  const firstRequests = Math.max(1, Math.round(MEMORY_REQUESTS / 10))
  const run = (amount: number) => load({ url: gateway.url, method: 'GET', headers: {} }, { amount, requests: cycle })
  const first = await run(firstRequests)
  const rssFirst = readRssBytes(gateway.proc.pid)
  const rest = await run(Math.max(1, MEMORY_REQUESTS - firstRequests))
  const rssEnd = readRssBytes(gateway.proc.pid)
  const failureDetail = [describeFailures(first), describeFailures(rest)].filter(Boolean).join(', ') || undefined
  return { firstRequests, totalRequests: firstRequests + rest.requests.total, rssFirst, rssEnd, failures: failuresOf(first) + failuresOf(rest), failureDetail }
}

function describeRun(): string[] {
  const version = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
    }
    catch {
      return 'unknown'
    }
  }
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
    }
    catch {
      return ''
    }
  }
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown'
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' (with uncommitted changes)' : ''
  let built = 'unknown'
  try {
    built = `${statSync(GATEWAY_ENTRY).mtime.toISOString().slice(0, 16).replace('T', ' ')} UTC`
  }
  catch { /* reported as unknown */ }
  const cores = cpus()
  return [
    `machine: ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${cores.length} cores, load average at start ${loadavg().map(n => n.toFixed(2)).join(' / ')}`,
    `node ${process.version}, nuxt ${version('nuxt')}, nitropack ${version('nitropack')}, autocannon ${version('autocannon')}`,
    `git ${commit}${dirty}; gateway build ${process.env.DEMO_OUTPUT_DIR ? 'from DEMO_OUTPUT_DIR' : '.output'} written ${built}`,
    `settings: ${ROUNDS} interleaved round(s) of ${DURATION} s per variant, each after a ${WARMUP} s warm-up, ${CONNECTIONS} connections; expiry windows ${EXPIRY_DURATION} s; memory ${MEMORY_REQUESTS.toLocaleString('en-US')} requests${CPU_PROF ? `; main gateway under --cpu-prof (${CPU_PROF})` : ''}`,
  ]
}

async function main(): Promise<number> {
  const started = STARTED
  const { variants, expiry, memory } = selected()
  const report: BenchReport = { startedAt: new Date(started), about: describeRun(), variants: [], expiry: [], wallSeconds: 0 }
  const servers = new Set<ServerId>(variants.map(v => v.server))
  const needsGateway = servers.has('gateway') || expiry || memory
  try {
    statSync(GATEWAY_ENTRY)
  }
  catch {
    if (needsGateway) throw new Error('No gateway build: run `npx tsx scripts/build-demo.ts` first (or set DEMO_OUTPUT_DIR)')
  }

  progress('starting the upstream stub, building the Nitro baselines, starting the servers')
  const stub = await startStub()
  const upstreamEnv = { BENCH_UPSTREAM_URL: stub.url, BENCH_UPSTREAM_READ_KEY: readKey, BENCH_UPSTREAM_WRITE_KEY: writeKey }
  const nitroEnv = { NITRO_UPSTREAM_URL: stub.url, NITRO_UPSTREAM_READ_KEY: readKey, NITRO_UPSTREAM_WRITE_KEY: writeKey }
  const running: Partial<Record<ServerId, Server>> = { stub }
  const nitroNames = [servers.has('nitro-plain') && 'nitro-plain', (servers.has('nitro-cached') || expiry) && 'nitro-cached'].filter(Boolean) as string[]
  let nitro: Record<string, string> = {}
  let expiryGateway: Server | undefined
  let expiryNitro: Server | undefined
  let memoryGateway: Server | undefined
  const users = needsGateway ? await localUsers() : ''
  // The build, the bare proxy and the gateway (with its logins) start side by side: most of it is waiting.
  await Promise.all([
    (async () => {
      nitro = await buildNitroFixtures(nitroNames)
      if (servers.has('nitro-plain')) running['nitro-plain'] = await startNodeServer('plain Nitro', nitro['nitro-plain']!, nitroEnv)
      if (servers.has('nitro-cached')) running['nitro-cached'] = await startNodeServer('cached Nitro', nitro['nitro-cached']!, nitroEnv)
    })(),
    (async () => {
      if (servers.has('bare')) running.bare = await startNodeServer('bare proxy', join(BENCH, 'baselines/bare-proxy.mjs'), upstreamEnv)
      if (servers.has('bare-http')) running['bare-http'] = await startNodeServer('bare proxy (node:http)', join(BENCH, 'baselines/bare-proxy.mjs'), { ...upstreamEnv, BARE_TRANSPORT: 'http' })
    })(),
    (async () => {
      if (servers.has('gateway')) {
        if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true })
        running.gateway = await startGateway('gateway', stub.url, users, {}, CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [])
      }
      // Started now and left idle until their turn: the expiry servers never see a list request before it.
      if (expiry) expiryGateway = await startGateway('gateway-expiry', stub.url, users, { NUXT_COCKPIT_GATEWAY_CACHE_MAX_AGE: '1' })
      if (memory) memoryGateway = await startGateway('gateway-memory', stub.url, users)
    })(),
  ])
  if (expiry) expiryNitro = await startNodeServer('cached Nitro (maxAge 1)', nitro['nitro-cached']!, { ...nitroEnv, BENCH_CACHE_MAX_AGE: '1' })

  for (const variant of variants) await preflight(variant, running[variant.server]!)
  progress(`measuring ${variants.length} variant(s)`)
  const figures: VariantFigures[] = variants.map(v => ({ id: v.id, label: v.label, method: v.method, windows: [] }))
  for (let round = 0; round < ROUNDS; round++) {
    // Round-robin, so that whatever else the machine does hits every variant alike.
    for (const [index, variant] of variants.entries()) {
      const window = await measureWindow(variant, running[variant.server]!, stub)
      figures[index]!.windows.push(window)
      progress(`round ${round + 1}/${ROUNDS} ${variant.id}: ${Math.round(window.requests / window.seconds)} req/s${window.failureDetail ? `, failures: ${window.failureDetail}` : ''}`)
    }
  }
  report.variants = figures
  // Each by its own signal (the gateway's SIGINT lets a --cpu-prof gateway write its profile), bounded.
  await Promise.all(Object.values(running).filter(server => server !== stub).map(server => server.proc.stop(undefined, CPU_PROF && server === running.gateway ? 60_000 : 5000)))

  if (expiryGateway && expiryNitro) {
    progress('expiry: gateway and Nitro cached with maxAge 1 s')
    report.expiry.push(await measureExpiry('gateway', expiryGateway, GATEWAY_LIST, stub))
    report.expiry.push(await measureExpiry('Nitro cached', expiryNitro, '/api/posts', stub))
    await Promise.all([expiryGateway.proc.stop(), expiryNitro.proc.stop()])
    progress(`expiry: ${report.expiry.map(e => `${e.label} ${e.calls} calls in ${e.seconds} s`).join(', ')}`)
  }
  if (memoryGateway) {
    progress(`memory: ${MEMORY_REQUESTS.toLocaleString('en-US')} mixed requests against a gateway of its own`)
    report.memory = await measureMemory(memoryGateway)
    await memoryGateway.proc.stop()
    progress(`memory: RSS ${(report.memory.rssFirst / 2 ** 20).toFixed(1)} → ${(report.memory.rssEnd / 2 ** 20).toFixed(1)} MB`)
  }

  report.wallSeconds = (Date.now() - started) / 1000
  const section = formatSection(report, LABEL)
  process.stdout.write(`\n${section}\n`)
  mkdirSync(dirname(RESULTS), { recursive: true })
  prependSection(RESULTS, section)
  process.stdout.write(`written to ${RESULTS}\n`)
  if (hasInvalidRows(report)) {
    process.stderr.write('bench: some measurements had errors or non-2xx answers (rows marked INVALID)\n')
    return 1
  }
  return 0
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`bench: ${signal}, stopping\n`)
    cleanUp().finally(() => process.exit(130))
  })
}

let code = 1
try {
  code = await main()
}
catch (error) {
  process.stderr.write(`bench failed: ${(error as Error).message}\n`)
}
finally {
  await cleanUp()
}
process.exit(code)
