import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

// The gateway benchmark (`npm run bench`) run for seconds, so that the script can't rot: every server it
// starts, every variant it measures, the expiry and memory measurements and the targets table. It asserts
// that the bench works and cleans up after itself, never a performance figure (the machine is shared).

const ROOT = resolve(__dirname, '../..')
const VARIANT_IDS = ['stub', 'bare-proxy', 'bare-http', 'nitro-plain', 'nitro-cached', 'gateway-anon', 'gateway-guest', 'gateway-editor', 'gateway-item', 'gateway-create', 'bare-post']
const RUN_TIMEOUT = 170_000

const work = mkdtempSync(join(tmpdir(), 'cg-bench-smoke-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface Finished { code: number | null, output: string }

/** Runs the bench (or another bench script) as a child with only the given knobs (none inherited) and its own TMPDIR. */
function runBench(knobs: Record<string, string>, tmp: string, script = 'bench/gateway.ts'): Promise<Finished> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(BENCH_|SOAK_|NUXT_|NITRO_|VITEST|TEST$|NODE_ENV$)/.test(name)))
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script)], { cwd: ROOT, env: { ...env, ...knobs, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  return new Promise((resolveDone) => {
    const timer = setTimeout(() => {
      output += `\n[test] the bench timed out after ${RUN_TIMEOUT} ms\n`
      child.kill('SIGINT')
    }, RUN_TIMEOUT)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolveDone({ code, output })
    })
  })
}

/** PIDs of processes whose command line or working directory is inside `dir`. */
function processesIn(dir: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8')
      if (cmdline.includes(dir) || readlinkSync(`/proc/${entry}/cwd`).startsWith(dir)) pids.push(Number(entry))
    }
    catch { /* gone, or not ours to read */ }
  }
  return pids
}

/** The cells of the results table row of a variant id. */
function rowOf(results: string, id: string): string[] | undefined {
  const line = results.split('\n').find(l => l.startsWith(`| \`${id}\` `))
  return line?.split('|').slice(1, -1).map(cell => cell.trim())
}

describe('npm run bench (smoke)', () => {
  it('measures every variant, the expiry and the memory, writes the results and leaves nothing behind', async () => {
    const tmp = mkdtempSync(join(work, 'tmp-'))
    const results = join(work, 'results.md')
    const { code, output } = await runBench({
      BENCH_ROUNDS: '1',
      BENCH_DURATION: '1',
      BENCH_WARMUP: '0.2',
      BENCH_CONNECTIONS: '10',
      BENCH_MEMORY_REQUESTS: '2000',
      BENCH_EXPIRY_DURATION: '2',
      BENCH_RESULTS: results,
      BENCH_LABEL: 'smoke',
    }, tmp)
    expect(code, output).toBe(0)

    const text = readFileSync(results, 'utf8')
    expect(text.startsWith('# Gateway benchmark results\n')).toBe(true)
    expect(text).toMatch(/^## \d{4}-\d\d-\d\d \d\d:\d\d UTC · smoke$/m)
    for (const id of VARIANT_IDS) {
      const cells = rowOf(text, id)
      expect(cells, `row of ${id}`).toBeDefined()
      expect(cells![0], id).not.toContain('INVALID')
      expect(Number(cells![1]!.replaceAll(',', '')), `req/s of ${id}`).toBeGreaterThan(0)
      // CPU µs per request and upstream calls per 1000 are numbers (the measurements ran).
      expect(cells![6], id).toMatch(/^[\d,.]+$/)
      expect(cells![7], id).toMatch(/^[\d,.]+$/)
      expect(cells![8], `non-2xx of ${id}`).toBe('0')
    }
    expect(text).toMatch(/^- Expiry \(gateway, maxAge 1 s, [\d,]+ requests\): \d+ upstream list calls in [\d.]+ s/m)
    expect(text).toMatch(/^- Expiry \(Nitro cached, maxAge 1 s, [\d,]+ requests\): \d+ upstream list calls in [\d.]+ s/m)
    expect(text).toMatch(/^- Memory \(gateway.*\): RSS [\d.]+ MB after the first 200 requests, [\d.]+ MB after 2,000 → ratio [\d.]+$/m)
    const targets = text.slice(text.indexOf('### Targets'))
    expect(targets).not.toBe('')
    const targetRows = targets.split('\n').filter(l => /^\| (?!target|---)/.test(l))
    expect(targetRows).toHaveLength(6)
    for (const row of targetRows) expect(row, row).toMatch(/\| (pass|FAIL) \|$/)

    // Every process stopped and every temp dir (Nitro builds, server working dirs) removed.
    expect(processesIn(tmp)).toEqual([])
    // (tsx keeps its transform cache in TMPDIR: `tsx-<uid>`, not the bench's.)
    expect(readdirSync(tmp).filter(name => !name.startsWith('tsx-'))).toEqual([])
  }, RUN_TIMEOUT + 10_000)

  it('refuses an unknown BENCH_ONLY id and writes nothing', async () => {
    const results = join(work, 'refused.md')
    const { code, output } = await runBench({ BENCH_ONLY: 'gateway-anon,nope', BENCH_RESULTS: results }, mkdtempSync(join(work, 'tmp-')))
    expect(code).toBe(2)
    expect(output).toContain('unknown BENCH_ONLY id(s) nope')
    expect(existsSync(results)).toBe(false)
  })
})

describe('npm run bench:soak (smoke)', () => {
  it('runs mixed traffic through injected faults, checks every answer, writes its section and leaves nothing behind', async () => {
    const tmp = mkdtempSync(join(work, 'tmp-'))
    const results = join(work, 'soak.md')
    const { code, output } = await runBench({
      SOAK_DURATION: '8',
      SOAK_WARMUP: '2',
      SOAK_FAULT_EVERY: '3',
      SOAK_FAULT_FOR: '1',
      SOAK_CONCURRENCY: '4',
      SOAK_FILL_SESSIONS: '20',
      SOAK_FILL_WRITES: '30',
      SOAK_RSS_WINDOW: '3',
      BENCH_RESULTS: results,
    }, tmp, 'bench/soak.ts')
    // 1 is allowed: a seconds-long run says nothing about memory growth, only that it was measured.
    expect([0, 1], output).toContain(code)
    const text = readFileSync(results, 'utf8')
    expect(text).toMatch(/^## \d{4}-\d\d-\d\d \d\d:\d\d UTC · soak \(issue 13\)$/m)
    expect(text).toMatch(/^- [\d,]+ requests, [1-9]\d* faults, gateway CPU \d+ µs\/request$/m)
    expect(text).toMatch(/^- fill before the timed run: 20 logins and 30 creates in \d+ s, RSS [\d.]+ MB → [\d.]+ MB$/m)
    expect(text).toMatch(/^- RSS \(median of 3 s\) after the warm-up [\d.]+ MB, at the end [\d.]+ MB \(peak [\d.]+ MB\) → ratio [\d.]+ \(target ≤ 1\.10\): (pass|FAIL)$/m)
    expect(text).toContain('- unexpected answers: 0 (target 0): pass')
    for (const operation of ['public list', 'guest list', 'editor list', 'public item', 'login', 'create']) {
      expect(text, operation).toMatch(new RegExp(`^\\| ${operation} \\| .*\\b(200|201): [\\d,]+.* \\| 0 \\|$`, 'm'))
    }
    expect(processesIn(tmp)).toEqual([])
    expect(readdirSync(tmp).filter(name => !name.startsWith('tsx-'))).toEqual([])
  }, RUN_TIMEOUT + 10_000)

  it('refuses a fault longer than its period and writes nothing', async () => {
    const results = join(work, 'soak-refused.md')
    const { code, output } = await runBench({ SOAK_FAULT_EVERY: '2', SOAK_FAULT_FOR: '3', BENCH_RESULTS: results }, mkdtempSync(join(work, 'tmp-')), 'bench/soak.ts')
    expect(code).toBe(2)
    expect(output).toContain('SOAK_FAULT_FOR must be shorter than SOAK_FAULT_EVERY')
    expect(existsSync(results)).toBe(false)
  })
})
