import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SEED_V2, startEmulator } from '../../emulator/index'
import { startFaultProxy } from '../support/fault-proxy'
import type { FaultProxy } from '../support/fault-proxy'
import { GENEROUS_LIMITS, startGateway, TestBrowser } from '../support/gateway-server'
import type { RunningGateway } from '../support/gateway-server'
import { sleep } from '../support/wait'

// Issue 13, item 6: 50 concurrent writers × 20 creates each, through a network that resets and refuses
// connections now and then (a real TCP fault proxy between the built gateway and the emulator), with clients
// that retry a refused write with the same Idempotency-Key (and sometimes send an acknowledged one again).
// Every acknowledged write must be stored exactly once; no write may be stored twice.

const LIST = '/api/cockpit/items/posts'
const WRITERS = 50
const WRITES_EACH = 20
const MAX_ATTEMPTS = 8

interface Outcome {
  acknowledged: Map<string, string>
  unknown: Set<string>
  replays: number
  retries: number
  statuses: Map<string, number>
}

describe('50 writers × 20 writes with retries, through network faults (v2)', () => {
  let emulator: Awaited<ReturnType<typeof startEmulator>>
  let proxy: FaultProxy
  let gateway: RunningGateway

  beforeAll(async () => {
    emulator = await startEmulator({ version: 2, port: 0 })
    proxy = await startFaultProxy(emulator.url, { resetAfter: 40 })
    gateway = await startGateway({
      version: 2,
      emulator,
      env: { ...GENEROUS_LIMITS, NUXT_COCKPIT_URL: proxy.url, NUXT_COCKPIT_TIMEOUT: '3000', NUXT_COCKPIT_BREAKER_COOL_DOWN: '300' },
    })
  })
  afterAll(async () => {
    await gateway?.stop()
    await proxy?.close()
    await emulator?.close()
  })

  it('stores every acknowledged write exactly once and no write twice', async () => {
    // One editor's session in 50 tabs (50 logins at once would only measure the emulator's bcrypt).
    const first = new TestBrowser(gateway)
    await first.login('editor', 'editor-pass-123')
    const writers = Array.from({ length: WRITERS }, () => first.copy())
    const outcome: Outcome = { acknowledged: new Map(), unknown: new Set(), replays: 0, retries: 0, statuses: new Map() }
    const count = (key: string) => outcome.statuses.set(key, (outcome.statuses.get(key) ?? 0) + 1)

    let writing = true
    // Short faults, in turn, while the writers run (bounded by the writers' end and by count).
    const faults = (async () => {
      for (let n = 0; writing && n < 300; n++) {
        await sleep(400)
        if (!writing) break
        // A reset mid-answer leaves the outcome unknown (Cockpit may have stored it): one fault in four.
        proxy.setMode(n % 4 === 3 ? 'reset' : 'refuse')
        await sleep(60)
        proxy.setMode('pass')
      }
    })()

    await Promise.all(writers.map(async (browser, w) => {
      for (let i = 0; i < WRITES_EACH; i++) {
        const title = `writer ${w} write ${i}`
        const key = randomUUID()
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          const answer = await browser.request(LIST, { json: { title, published: false }, headers: { 'idempotency-key': key } })
          const code = answer.status >= 400 ? answer.json().data?.code as string | undefined : undefined
          count(code ? `${answer.status} ${code}` : String(answer.status))
          if (answer.status === 201) {
            const id = answer.json()._id as string
            if (outcome.acknowledged.has(title)) expect(outcome.acknowledged.get(title)).toBe(id)
            outcome.acknowledged.set(title, id)
            // Now and then the client did not see the answer and sends the same write again: a replay.
            if (Math.random() < 0.1) {
              const again = await browser.request(LIST, { json: { title, published: false }, headers: { 'idempotency-key': key } })
              if (again.status === 201) {
                expect(again.json()._id).toBe(id)
                expect(again.headers.get('idempotent-replayed')).toBe('true')
                outcome.replays++
              }
              else {
                // Only the gateway's own refusals may stand between a client and its replay.
                expect([503], again.text).toContain(again.status)
              }
            }
            break
          }
          if (answer.status === 409 && code === 'IDEMPOTENCY_OUTCOME_UNKNOWN') {
            outcome.unknown.add(title)
            break
          }
          // Anything else must be a documented, retryable refusal: the upstream trouble codes or a write still running.
          expect([502, 503, 504, 409], `${answer.status} ${answer.text}`).toContain(answer.status)
          expect(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_ERROR', 'UPSTREAM_CIRCUIT_OPEN', 'UPSTREAM_BUSY', 'IDEMPOTENCY_IN_PROGRESS']).toContain(code)
          outcome.retries++
          await sleep(20 + Math.random() * 80)
        }
      }
    }))
    writing = false
    await faults
    proxy.setMode('pass')

    const response = await fetch(`${emulator.url}/api/content/items/posts`, { headers: { 'api-key': SEED_V2.keys.full } })
    const stored = (await response.json()) as { title: string, _id: string }[]
    const byTitle = new Map<string, string[]>()
    for (const item of stored.filter(item => /^writer \d+ write \d+$/.test(item.title))) {
      byTitle.set(item.title, [...(byTitle.get(item.title) ?? []), item._id])
    }
    console.log(`[writers] acknowledged ${outcome.acknowledged.size}, unknown ${outcome.unknown.size}, replays ${outcome.replays}, retries ${outcome.retries}, stored ${byTitle.size}; answers ${JSON.stringify(Object.fromEntries(outcome.statuses))}`)
    const twice = [...byTitle].filter(([, ids]) => ids.length > 1)
    expect(twice).toEqual([])
    for (const [title, id] of outcome.acknowledged) expect(byTitle.get(title), title).toEqual([id])
    // The faults did happen, and writes still got through them.
    expect(outcome.retries).toBeGreaterThan(0)
    expect(outcome.acknowledged.size).toBeGreaterThan(0)
  }, 600_000)
})
