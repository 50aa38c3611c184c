// Benchmark: what a logged-in request costs compared to an anonymous one, and what resealing every
// request would add. Ratios of side-by-side runs against the same build (machines here are noisy: read
// the ratios, not the absolute numbers). Run after a build: `npx tsx bench/session-cost.ts`.
import { startGateway, TestBrowser } from '../tests/support/gateway-server'
import type { RunningGateway } from '../tests/support/gateway-server'
import { median } from '../tests/support/wait'

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000)
const CONCURRENCY = 16
const ROUNDS = 3

async function measure(gateway: RunningGateway, path: string, cookie?: string): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      next++
      const response = await fetch(`${gateway.url}${path}`, { headers: cookie ? { cookie } : {} })
      await response.arrayBuffer()
      if (!response.ok) throw new Error(`${path} answered ${response.status}`)
    }
  }))
  return REQUESTS / ((performance.now() - started) / 1000)
}

async function loggedInCookie(gateway: RunningGateway): Promise<string> {
  const browser = new TestBrowser(gateway)
  await browser.login('editor', 'editor-pass-123')
  return browser.cookieHeader()
}

const limits = { NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: '1000000', NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: '1000' }
const normal = await startGateway({ version: 2, env: limits })
// Baseline for "reseal on every request": the refresh interval at 0 makes every request reseal.
const eager = await startGateway({ version: 2, env: { ...limits, NUXT_COCKPIT_GATEWAY_AUTH_REFRESH_INTERVAL: '0' } })
try {
  const cookie = await loggedInCookie(normal)
  const eagerCookie = await loggedInCookie(eager)
  const rows: Record<string, number[]> = { anonymous: [], loggedIn: [], resealEveryRequest: [] }
  for (let round = 0; round < ROUNDS; round++) {
    rows.anonymous!.push(await measure(normal, '/api/_auth/session'))
    rows.loggedIn!.push(await measure(normal, '/api/_auth/session', cookie))
    // Let time pass the refresh check so the eager server really reseals (lastSeenAt changes every ms).
    rows.resealEveryRequest!.push(await measure(eager, '/api/_auth/session', eagerCookie))
  }
  const anonymous = median(rows.anonymous!)
  const loggedIn = median(rows.loggedIn!)
  const eagerRate = median(rows.resealEveryRequest!)
  console.log(`requests per run: ${REQUESTS}, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds`)
  console.log(`anonymous session check:          ${anonymous.toFixed(0)} req/s (baseline 1.00)`)
  console.log(`logged-in, default refresh:       ${loggedIn.toFixed(0)} req/s (${(loggedIn / anonymous).toFixed(2)} of baseline)`)
  console.log(`logged-in, reseal every request:  ${eagerRate.toFixed(0)} req/s (${(eagerRate / anonymous).toFixed(2)} of baseline)`)
  console.log(`default vs reseal-every-request:  ${(loggedIn / eagerRate).toFixed(2)}x`)
}
finally {
  await normal.stop()
  await eager.stop()
}
