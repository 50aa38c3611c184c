// The soak run (`npm run bench:soak`, after `npx tsx scripts/build-demo.ts`; not part of CI): the built gateway
// in front of the upstream stub through a TCP fault proxy, for SOAK_DURATION seconds of mixed reads, logins and
// writes from SOAK_CONCURRENCY loops, while the proxy injects a fault (refused connections, a stall, a reset
// mid-body, garbage bytes, a slow drip, in turn) for SOAK_FAULT_FOR seconds every SOAK_FAULT_EVERY seconds.
// Every answer is checked against what its operation may answer at that moment: public reads 200 always
// (stale while Cockpit is unreachable), logins 200 always (local users), uncached reads and writes 200/201, or
// during a fault (and for the breaker's cool-down after it) 503/504 with a documented upstream code (a retried
// create also 409 IDEMPOTENCY_OUTCOME_UNKNOWN / IDEMPOTENCY_IN_PROGRESS). Anything else is unexpected.
// Writes carry an Idempotency-Key and a refused one is retried once with the same key.
// Memory: the gateway keeps two bounded in-memory caches that only fill with new sessions and new writes (the
// verified seals, 10,000 sessions; the finished idempotency records, 10,000 or 8 MiB). At this mix's rates they
// would still be filling at the end of a 10-minute run, which is growth up to a bound, not a leak; so before
// the timed run, a fill step logs in SOAK_FILL_SESSIONS times and creates SOAK_FILL_WRITES posts, and what is
// measured is the growth beyond that. RSS is sampled every second and saw-tooths with V8's collections (±10%),
// so each end is the median of a window (SOAK_RSS_WINDOW s): the first window after the warm-up, and the last.
// Knobs (env): SOAK_DURATION (600 s), SOAK_WARMUP (30 s), SOAK_CONCURRENCY (16), SOAK_FAULT_EVERY (30 s),
// SOAK_FAULT_FOR (8 s), SOAK_FILL_SESSIONS (10000), SOAK_FILL_WRITES (10000), SOAK_RSS_WINDOW (30 s),
// BENCH_RESULTS (bench/results.md), DEMO_OUTPUT_DIR (the build).
// Exit 0 when there was no unexpected answer and RSS held; 1 otherwise; 2 on bad knobs or a failed start.
import { randomUUID } from 'node:crypto'
import { mkdirSync, statSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startFaultProxy } from '../tests/support/fault-proxy'
import type { FaultMode } from '../tests/support/fault-proxy'
import { median } from '../tests/support/wait'
import { readKnob } from './lib/knobs'
import { cleanUp, readCpuMicros, readRssBytes } from './lib/processes'
import { prependSection } from './lib/report'
import { GATEWAY_ENTRY, localUsers, login, startGateway, startStub } from './lib/servers'
import type { Server } from './lib/servers'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const knob = (name: string, fallback: number) => readKnob('soak', name, fallback, 'positive')

const DURATION = knob('SOAK_DURATION', 600)
const WARMUP = knob('SOAK_WARMUP', 30)
const CONCURRENCY = Math.round(knob('SOAK_CONCURRENCY', 16))
const FAULT_EVERY = knob('SOAK_FAULT_EVERY', 30)
const FAULT_FOR = knob('SOAK_FAULT_FOR', 8)
const FILL_SESSIONS = readKnob('soak', 'SOAK_FILL_SESSIONS', 10_000, 'non-negative integer')
const FILL_WRITES = readKnob('soak', 'SOAK_FILL_WRITES', 10_000, 'non-negative integer')
const RSS_WINDOW = knob('SOAK_RSS_WINDOW', 30)
const RESULTS = resolve(process.env.BENCH_RESULTS || join(ROOT, 'bench/results.md'))
if (FAULT_FOR >= FAULT_EVERY) {
  process.stderr.write('soak: SOAK_FAULT_FOR must be shorter than SOAK_FAULT_EVERY\n')
  process.exit(2)
}

// The gateway's upstream bounds in this run: how long after a fault an answer may still show it.
const UPSTREAM_TIMEOUT_MS = 3000
const BREAKER_COOL_DOWN_MS = 2000
const GRACE_MS = UPSTREAM_TIMEOUT_MS * 2 + BREAKER_COOL_DOWN_MS + 1000
const UPSTREAM_CODES = new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_CIRCUIT_OPEN', 'UPSTREAM_BUSY', 'UPSTREAM_ERROR'])
// A retried create whose first attempt was cut off after it was sent: the gateway can't know whether Cockpit
// stored it, and says so rather than risk storing it twice (or the first attempt is still running).
const RETRY_CODES = new Set(['IDEMPOTENCY_OUTCOME_UNKNOWN', 'IDEMPOTENCY_IN_PROGRESS'])
const FAULTS: FaultMode[] = ['refuse', 'stall', 'reset', 'garbage', 'drip']
const LIST = '/api/cockpit/items/posts'
const ITEM_IDS = ['6b0bc3c7686c82ffb095aa90', '6b0bc3c7686c82ffb095aa91', '6b0bc3c7686c82ffb095aa92']

type Operation = 'public list' | 'guest list' | 'editor list' | 'public item' | 'login' | 'create'
const MIX: [Operation, number][] = [['public list', 35], ['guest list', 20], ['editor list', 15], ['public item', 20], ['login', 2], ['create', 8]]
const MIX_TOTAL = MIX.reduce((sum, [, weight]) => sum + weight, 0)

interface Tally {
  statuses: Map<string, number>
  unexpected: string[]
  unexpectedCount: number
}

const tallies = new Map<Operation, Tally>(MIX.map(([operation]) => [operation, { statuses: new Map(), unexpected: [], unexpectedCount: 0 }]))
const faultWindows: { mode: FaultMode, from: number, to: number }[] = []

function pick(): Operation {
  let roll = Math.random() * MIX_TOTAL
  for (const [operation, weight] of MIX) {
    roll -= weight
    if (roll < 0) return operation
  }
  return 'public list'
}

/** Whether a request that ran from `start` to `end` overlapped a fault, or the time its effects may last. */
function nearFault(start: number, end: number): boolean {
  return faultWindows.some(window => start <= window.to + GRACE_MS && end >= window.from)
}

function record(operation: Operation, status: number, code: string | undefined, start: number, end: number): void {
  const tally = tallies.get(operation)!
  const key = code ? `${status} ${code}` : String(status)
  tally.statuses.set(key, (tally.statuses.get(key) ?? 0) + 1)
  const ok = operation === 'create' ? status === 201 : status === 200
  const upstreamTrouble = ((status === 503 || status === 504 || status === 502) && !!code && UPSTREAM_CODES.has(code))
    || (operation === 'create' && status === 409 && !!code && RETRY_CODES.has(code))
  const mayFail = operation === 'editor list' || operation === 'create'
  if (ok || (mayFail && upstreamTrouble && nearFault(start, end))) return
  tally.unexpectedCount++
  if (tally.unexpected.length < 10) tally.unexpected.push(`${key} at +${((start - startedAt) / 1000).toFixed(1)} s`)
}

async function call(gateway: Server, operation: Operation): Promise<void> {
  const headers: Record<string, string> = {}
  let path = LIST
  let method = 'GET'
  let body: string | undefined
  if (operation === 'guest list') headers.cookie = gateway.cookies.guest!
  if (operation === 'editor list') headers.cookie = gateway.cookies.editor!
  if (operation === 'public item') path = `${LIST}/${ITEM_IDS[Math.floor(Math.random() * ITEM_IDS.length)]}`
  if (operation === 'login') {
    const start = Date.now()
    try {
      await login(gateway, Math.random() < 0.5 ? 'guest' : 'editor')
      record(operation, 200, undefined, start, Date.now())
    }
    catch (error) {
      record(operation, Number(/failed: (\d+)/.exec(String(error))?.[1] ?? 0), 'LOGIN', start, Date.now())
    }
    return
  }
  if (operation === 'create') {
    method = 'POST'
    headers.cookie = gateway.cookies.editor!
    headers['content-type'] = 'application/json'
    headers.origin = gateway.url
    headers['idempotency-key'] = randomUUID()
    body = JSON.stringify({ title: 'Soak post', published: false })
  }
  // A refused write is retried once, as a client would, with the same key.
  for (let attempt = 1; attempt <= (operation === 'create' ? 2 : 1); attempt++) {
    const start = Date.now()
    let status = 0
    let code: string | undefined
    try {
      const response = await fetch(`${gateway.url}${path}`, { method, headers, body, signal: AbortSignal.timeout(15_000) })
      status = response.status
      const text = await response.text()
      if (status >= 400) code = (JSON.parse(text) as { data?: { code?: string } }).data?.code
    }
    catch {
      code = 'NO_ANSWER'
    }
    record(operation, status, code, start, Date.now())
    if (status < 500) return
  }
}

let startedAt = Date.now()

/** Runs `count` calls of `task` from `CONCURRENCY` loops; any failure ends the soak (exit 2). */
async function fill(count: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await task(next++)
  }))
}

/** Fills the gateway's bounded per-session and per-write caches, as a long-running instance has them. */
async function fillCaches(gateway: Server): Promise<void> {
  await fill(FILL_SESSIONS, async (index) => {
    await login(gateway, index % 2 ? 'guest' : 'editor')
  })
  await fill(FILL_WRITES, async () => {
    const response = await fetch(`${gateway.url}${LIST}`, {
      method: 'POST',
      headers: { 'cookie': gateway.cookies.editor!, 'content-type': 'application/json', 'origin': gateway.url, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ title: 'Soak fill post', published: false }),
    })
    await response.arrayBuffer()
    if (response.status !== 201) throw new Error(`a fill create answered ${response.status}`)
  })
}

/** The median of the RSS samples taken from `from` to `to` (ms), or `NaN` without any. */
function medianRss(samples: { at: number, bytes: number }[], from: number, to: number): number {
  const values = samples.filter(sample => sample.at >= from && sample.at <= to).map(sample => sample.bytes)
  return values.length ? median(values) : Number.NaN
}

async function main(): Promise<number> {
  statSync(GATEWAY_ENTRY)
  const stub = await startStub()
  const proxy = await startFaultProxy(stub.url)
  const gateway = await startGateway('gateway-soak', proxy.url, await localUsers(), {
    NUXT_COCKPIT_TIMEOUT: String(UPSTREAM_TIMEOUT_MS),
    NUXT_COCKPIT_BREAKER_COOL_DOWN: String(BREAKER_COOL_DOWN_MS),
  })
  const pid = gateway.proc.child.pid!
  try {
    // Warm every public read once so that it has a copy to serve stale.
    for (const path of [LIST, ...ITEM_IDS.map(id => `${LIST}/${id}`)]) await (await fetch(`${gateway.url}${path}`)).arrayBuffer()
    const fillStart = Date.now()
    const rssBeforeFill = readRssBytes(pid)
    await fillCaches(gateway)
    const fillSeconds = (Date.now() - fillStart) / 1000
    const rssAfterFill = readRssBytes(pid)
    startedAt = Date.now()
    const deadline = startedAt + DURATION * 1000
    const rss: { at: number, bytes: number }[] = []
    const cpuStart = readCpuMicros(pid)
    const sampler = setInterval(() => rss.push({ at: Date.now(), bytes: readRssBytes(pid) }), 1000)
    let faultIndex = 0
    const faults = setInterval(() => {
      const mode = FAULTS[faultIndex++ % FAULTS.length]!
      const from = Date.now()
      faultWindows.push({ mode, from, to: from + FAULT_FOR * 1000 })
      proxy.setMode(mode)
      setTimeout(() => proxy.setMode('pass'), FAULT_FOR * 1000)
    }, FAULT_EVERY * 1000)
    let requests = 0
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline) {
        await call(gateway, pick())
        requests++
      }
    }))
    clearInterval(faults)
    clearInterval(sampler)
    proxy.setMode('pass')
    const cpuMicros = readCpuMicros(pid) - cpuStart

    const warmFrom = startedAt + WARMUP * 1000
    const lastAt = rss.at(-1)?.at ?? Date.now()
    const warm = medianRss(rss, warmFrom, warmFrom + RSS_WINDOW * 1000)
    const end = medianRss(rss, lastAt - RSS_WINDOW * 1000, lastAt)
    const peak = Math.max(...rss.filter(sample => sample.at >= warmFrom).map(sample => sample.bytes))
    const ratio = warm ? end / warm : Number.NaN
    const unexpected = [...tallies.values()].reduce((sum, tally) => sum + tally.unexpectedCount, 0)
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`
    const lines = [
      `## ${new Date(startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC · soak (issue 13)`,
      '',
      `- machine: ${cpus()[0]?.model.trim() ?? 'unknown'}, ${cpus().length} cores, load average at start ${loadavg().map(n => n.toFixed(2)).join(' / ')}`,
      `- node ${process.version}; settings: ${DURATION} s, ${CONCURRENCY} loops, warm-up ${WARMUP} s, a fault for ${FAULT_FOR} s every ${FAULT_EVERY} s (${FAULTS.join(', ')} in turn); upstream timeout ${UPSTREAM_TIMEOUT_MS} ms, breaker cool-down ${BREAKER_COOL_DOWN_MS} ms`,
      `- fill before the timed run: ${FILL_SESSIONS.toLocaleString('en-US')} logins and ${FILL_WRITES.toLocaleString('en-US')} creates in ${fillSeconds.toFixed(0)} s, RSS ${mb(rssBeforeFill)} → ${mb(rssAfterFill)}`,
      `- ${requests.toLocaleString('en-US')} requests, ${faultWindows.length} faults, gateway CPU ${Math.round(cpuMicros / Math.max(1, requests))} µs/request`,
      `- RSS (median of ${RSS_WINDOW} s) after the warm-up ${mb(warm)}, at the end ${mb(end)} (peak ${mb(peak)}) → ratio ${ratio.toFixed(3)} (target ≤ 1.10): ${ratio <= 1.1 ? 'pass' : 'FAIL'}`,
      `- unexpected answers: ${unexpected} (target 0): ${unexpected === 0 ? 'pass' : 'FAIL'}`,
      '',
      '| operation | answers (status code: count) | unexpected |',
      '|---|---|---:|',
      ...[...tallies].map(([operation, tally]) => `| ${operation} | ${[...tally.statuses].sort().map(([key, n]) => `${key}: ${n.toLocaleString('en-US')}`).join(', ')} | ${tally.unexpectedCount}${tally.unexpected.length ? ` (${tally.unexpected.join('; ')})` : ''} |`),
      '',
    ]
    const section = lines.join('\n')
    process.stdout.write(`\n${section}\n`)
    mkdirSync(dirname(RESULTS), { recursive: true })
    prependSection(RESULTS, section)
    process.stdout.write(`written to ${RESULTS}\n`)
    return unexpected === 0 && ratio <= 1.1 ? 0 : 1
  }
  finally {
    await gateway.proc.stop()
    await proxy.close()
    await stub.proc.stop()
  }
}

main().then(
  async (code) => {
    await cleanUp()
    process.exit(code)
  },
  async (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n`)
    await cleanUp()
    process.exit(2)
  },
)
