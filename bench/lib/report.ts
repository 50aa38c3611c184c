// The benchmark's report: per-variant figures from the measured windows, the targets of issue 11, and the
// Markdown section written at the top of bench/results.md (and printed).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { median } from '../../tests/support/wait'

/** One measured window of one variant. */
export interface WindowFigures {
  /** Completed requests. */
  requests: number
  /** Seconds the window lasted. */
  seconds: number
  p50: number
  p99: number
  /** Non-2xx answers plus connection errors and timeouts. */
  failures: number
  /** What they were, when there were any. */
  failureDetail?: string
  /** CPU µs the measured server process used in the window. */
  cpuMicros: number
  /** Upstream calls (all routes of the stub) in the window. */
  upstreamCalls: number
}

/** A variant's figures over all its rounds. */
export interface VariantFigures {
  id: string
  label: string
  /** `GET` rows compare with the bare proxy's list, `POST` rows with its POST. */
  method: 'GET' | 'POST'
  windows: WindowFigures[]
}

/** The "one upstream call per cache expiry" measurement of one server. */
export interface ExpiryFigures {
  label: string
  maxAge: number
  seconds: number
  calls: number
  requests: number
  failures: number
  failureDetail?: string
}

/** The memory measurement of the gateway. */
export interface MemoryFigures {
  firstRequests: number
  totalRequests: number
  rssFirst: number
  rssEnd: number
  failures: number
  failureDetail?: string
}

/** Everything a run produced. */
export interface BenchReport {
  startedAt: Date
  /** Bullet lines about machine, versions, build and settings. */
  about: string[]
  variants: VariantFigures[]
  expiry: ExpiryFigures[]
  memory?: MemoryFigures
  /** Wall-clock seconds of the whole run. */
  wallSeconds: number
}

/** Summary figures of a variant: medians of the rounds, CPU and upstream calls over all its requests. */
export interface VariantSummary {
  rps: number
  p50: number
  p99: number
  cpuPerRequest: number
  upstreamPer1000: number
  failures: number
  valid: boolean
}

/**
 * Summarises a variant's windows.
 * @param variant the variant's figures
 */
export function summarise(variant: VariantFigures): VariantSummary {
  const requests = variant.windows.reduce((sum, w) => sum + w.requests, 0)
  const failures = variant.windows.reduce((sum, w) => sum + w.failures, 0)
  return {
    rps: median(variant.windows.map(w => w.requests / w.seconds)),
    p50: median(variant.windows.map(w => w.p50)),
    p99: median(variant.windows.map(w => w.p99)),
    cpuPerRequest: requests ? variant.windows.reduce((sum, w) => sum + w.cpuMicros, 0) / requests : 0,
    upstreamPer1000: requests ? variant.windows.reduce((sum, w) => sum + w.upstreamCalls, 0) / requests * 1000 : 0,
    failures,
    valid: failures === 0 && requests > 0,
  }
}

/** Whether an expiry measurement meets "one upstream call per expiry" (the cold miss allowed on top). */
export function expiryPasses(expiry: ExpiryFigures): boolean {
  return expiry.failures === 0 && expiry.calls <= Math.ceil(expiry.seconds / expiry.maxAge) + 1
}

/** The RSS ratio target. */
export const RSS_RATIO_TARGET = 1.10

/** The ratio targets of issue 11: `variant` req/s ≥ `factor` × `baseline` req/s. */
export const RATIO_TARGETS = [
  { name: 'anonymous cached read ≥ 0.85× Nitro cached', variant: 'gateway-anon', baseline: 'nitro-cached', factor: 0.85 },
  { name: 'logged-in guest cached read ≥ 0.6× Nitro cached', variant: 'gateway-guest', baseline: 'nitro-cached', factor: 0.6 },
  { name: 'logged-in editor uncached read ≥ 0.70× bare proxy', variant: 'gateway-editor', baseline: 'bare-proxy', factor: 0.70 },
  { name: 'create ≥ 0.6× bare proxied POST', variant: 'gateway-create', baseline: 'bare-post', factor: 0.6 },
] as const

const fmtInt = (n: number) => n >= 10 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1)
const fmtRatio = (n: number) => `${n.toFixed(2)}×`
// autocannon records latencies in whole milliseconds.
const fmtMs = (n: number) => Math.round(n).toLocaleString('en-US')
const fmtMb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`

/**
 * The Markdown section of one run.
 * @param report the run
 * @param label optional name of the run (`BENCH_LABEL`, e.g. "before")
 */
export function formatSection(report: BenchReport, label?: string): string {
  const summaries = new Map(report.variants.map(v => [v.id, summarise(v)]))
  const rps = (id: string) => {
    const s = summaries.get(id)
    return s?.valid ? s.rps : undefined
  }
  const lines: string[] = []
  const stamp = report.startedAt.toISOString().replace('T', ' ').slice(0, 16)
  lines.push(`## ${stamp} UTC${label ? ` · ${label}` : ''}`, '', ...report.about.map(line => `- ${line}`), `- wall time of the run: ${Math.round(report.wallSeconds)} s`, '')

  if (report.variants.length) {
    lines.push('| variant | req/s | × bare proxy | × Nitro cached | p50 ms | p99 ms | CPU µs/req | upstream calls/1000 | non-2xx |')
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const variant of report.variants) {
      const s = summaries.get(variant.id)!
      const bare = rps(variant.method === 'POST' ? 'bare-post' : 'bare-proxy')
      const cached = variant.method === 'GET' ? rps('nitro-cached') : undefined
      lines.push(`| \`${variant.id}\` ${variant.label}${s.valid ? '' : ' **INVALID**'} | ${fmtInt(s.rps)} | ${bare ? fmtRatio(s.rps / bare) : '–'} | ${cached ? fmtRatio(s.rps / cached) : '–'} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${fmtInt(s.cpuPerRequest)} | ${fmtInt(s.upstreamPer1000)} | ${s.failures} |`)
    }
    for (const variant of report.variants) {
      variant.windows.forEach((w, round) => {
        if (w.failureDetail) lines.push(`- \`${variant.id}\` INVALID, round ${round + 1}: ${w.failureDetail}`)
      })
    }
    lines.push('', 'req/s, p50 and p99: medians of the rounds. × bare proxy: against the bare proxy\'s list (GET rows) or its POST (POST rows). CPU µs/req: the measured server process (for `stub`, the stub itself) over all rounds. Upstream calls: every call the stub saw during the rounds, per 1000 requests.', '')
  }

  for (const expiry of report.expiry) {
    const expiries = expiry.seconds / expiry.maxAge
    lines.push(`- Expiry (${expiry.label}, maxAge ${expiry.maxAge} s, ${expiry.requests.toLocaleString('en-US')} requests): ${expiry.calls} upstream list calls in ${expiry.seconds.toFixed(1)} s = ${expiries.toFixed(1)} expiries → ${(expiry.calls / expiries).toFixed(2)} calls per expiry (cold miss included; pass when calls ≤ ⌈expiries⌉ + 1)${expiry.failures ? ` **INVALID: ${expiry.failureDetail}**` : ''}`)
  }
  const memory = report.memory
  if (memory) {
    lines.push(`- Memory (gateway, mixed anonymous/guest/editor lists, one item, 1% creates): RSS ${fmtMb(memory.rssFirst)} after the first ${memory.firstRequests.toLocaleString('en-US')} requests, ${fmtMb(memory.rssEnd)} after ${memory.totalRequests.toLocaleString('en-US')} → ratio ${(memory.rssEnd / memory.rssFirst).toFixed(3)}${memory.failures ? ` **INVALID: ${memory.failureDetail}**` : ''}`)
  }
  if (report.expiry.length || memory) lines.push('')

  lines.push('### Targets', '', '| target | measured | result |', '|---|---:|---|')
  for (const target of RATIO_TARGETS) {
    const [value, base] = [summaries.get(target.variant), summaries.get(target.baseline)]
    if (!value || !base) lines.push(`| ${target.name} | – | not run |`)
    else if (!value.valid || !base.valid) lines.push(`| ${target.name} | ${fmtRatio(value.rps / base.rps)} | INVALID (failed requests) |`)
    else lines.push(`| ${target.name} | ${fmtRatio(value.rps / base.rps)} | ${value.rps / base.rps >= target.factor ? 'pass' : 'FAIL'} |`)
  }
  const gatewayExpiry = report.expiry.find(e => e.label === 'gateway')
  if (gatewayExpiry) {
    lines.push(`| ≤ 1 upstream call per cache expiry (gateway) | ${gatewayExpiry.calls} calls / ${(gatewayExpiry.seconds / gatewayExpiry.maxAge).toFixed(1)} expiries | ${expiryPasses(gatewayExpiry) ? 'pass' : 'FAIL'} |`)
  }
  else {
    lines.push('| ≤ 1 upstream call per cache expiry (gateway) | – | not run |')
  }
  if (memory) {
    const ratio = memory.rssEnd / memory.rssFirst
    lines.push(`| RSS after ${memory.totalRequests.toLocaleString('en-US')} ≤ ${RSS_RATIO_TARGET.toFixed(2)}× RSS after ${memory.firstRequests.toLocaleString('en-US')} | ${ratio.toFixed(3)} | ${!memory.failures && ratio <= RSS_RATIO_TARGET ? 'pass' : 'FAIL'} |`)
  }
  else {
    lines.push(`| RSS ratio ≤ ${RSS_RATIO_TARGET.toFixed(2)} | – | not run |`)
  }
  lines.push('')
  return lines.join('\n')
}

const TITLE = '# Gateway benchmark results'
const INTRO = 'Recorded runs of `npm run bench` (bench/gateway.ts), newest first. Compare ratios within one run: the machine is shared and noisy.'

/**
 * Writes `section` at the top of the results file (below its title), keeping the older runs.
 * @param path the results file
 * @param section one run's Markdown
 */
export function prependSection(path: string, section: string): void {
  let older = ''
  if (existsSync(path)) {
    const text = readFileSync(path, 'utf8')
    older = text.startsWith(TITLE) ? text.slice(text.indexOf('\n## ') + 1 || text.length) : text
  }
  writeFileSync(path, `${TITLE}\n\n${INTRO}\n\n${section}\n${older}`.trimEnd() + '\n')
}

/**
 * Whether any measurement of the run failed (non-2xx answers or errors): then the bench itself broke.
 * @param report the run
 */
export function hasInvalidRows(report: BenchReport): boolean {
  return report.variants.some(v => !summarise(v).valid) || report.expiry.some(e => e.failures > 0) || (report.memory?.failures ?? 0) > 0
}
