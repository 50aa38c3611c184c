import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createUpstreamGuard } from '../../layers/cockpit-gateway/server/cockpit/upstream-guard'
import type { UpstreamGuardOptions } from '../../layers/cockpit-gateway/server/cockpit/upstream-guard'
import { CockpitError } from '../../layers/cockpit-gateway/server/cockpit/cockpit-errors'

// The guard's state machine with fake timers (the cool-down and queue wait are clock-driven). The same guard
// in front of a real emulator is in tests/e2e/upstream-guard.test.ts.

const OPTIONS: UpstreamGuardOptions = { maxConcurrent: 2, queueSize: 1, queueTimeout: 500, breakerThreshold: 3, breakerCoolDown: 5000 }

/** A call that stays in flight until the test settles it. */
function deferred<T = string>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

const ok = () => 'ok' as const
const codeOf = async (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: unknown) => error instanceof CockpitError ? `${error.code}:${error.retryAfter ?? '-'}` : String(error))
const down = () => Promise.reject(new CockpitError('UPSTREAM_UNAVAILABLE'))

describe('upstream guard: concurrency cap and queue', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('runs maxConcurrent calls, queues queueSize more, refuses the rest at once with Retry-After 1', async () => {
    const log = vi.fn()
    const guard = createUpstreamGuard({ ...OPTIONS, log })
    const calls = [deferred(), deferred(), deferred()]
    let started = 0
    const run = (index: number) => guard.run(() => {
      started++
      return calls[index]!.promise
    }, ok)
    const first = run(0)
    const second = run(1)
    const queued = run(2)
    await vi.advanceTimersByTimeAsync(0)
    expect(started).toBe(2)
    expect(guard.state()).toMatchObject({ active: 2, queued: 1 })
    expect(await codeOf(guard.run(async () => 'never', ok))).toBe('UPSTREAM_BUSY:1')
    expect(log).toHaveBeenCalledTimes(1)
    expect(await codeOf(guard.run(async () => 'never', ok))).toBe('UPSTREAM_BUSY:1')
    // Once per busy spell, not per refusal.
    expect(log).toHaveBeenCalledTimes(1)

    calls[0]!.resolve('a')
    expect(await first).toBe('a')
    await vi.advanceTimersByTimeAsync(0)
    // The freed slot went to the queued call.
    expect(started).toBe(3)
    calls[1]!.resolve('b')
    calls[2]!.resolve('c')
    expect([await second, await queued]).toEqual(['b', 'c'])
    expect(guard.state()).toMatchObject({ active: 0, queued: 0 })
  })

  it('a queued call that waits past queueTimeout is refused without running', async () => {
    const guard = createUpstreamGuard(OPTIONS)
    const held = [deferred(), deferred()]
    const running = held.map(call => guard.run(() => call.promise, ok))
    let ran = false
    const waiting = codeOf(guard.run(async () => {
      ran = true
      return 'late'
    }, ok))
    await vi.advanceTimersByTimeAsync(499)
    expect(guard.state().queued).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(await waiting).toBe('UPSTREAM_BUSY:1')
    expect(ran).toBe(false)
    expect(guard.state().queued).toBe(0)
    for (const call of held) call.resolve('x')
    await Promise.all(running)
    expect(guard.state().active).toBe(0)
  })

  it('0 means no cap', async () => {
    const guard = createUpstreamGuard({ ...OPTIONS, maxConcurrent: 0, queueSize: 0 })
    const held = Array.from({ length: 50 }, () => deferred())
    const running = held.map(call => guard.run(() => call.promise, ok))
    expect(guard.state().active).toBe(50)
    for (const call of held) call.resolve('x')
    expect(await Promise.all(running)).toHaveLength(50)
  })
})

describe('upstream guard: circuit breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('opens after breakerThreshold consecutive failures and fails fast with an honest Retry-After', async () => {
    const log = vi.fn()
    const guard = createUpstreamGuard({ ...OPTIONS, log })
    for (let i = 0; i < 3; i++) expect(await codeOf(guard.run(down, ok))).toBe('UPSTREAM_UNAVAILABLE:-')
    expect(guard.state().circuit).toBe('open')
    let called = 0
    const counted = async () => {
      called++
      return 'x'
    }
    expect(await codeOf(guard.run(counted, ok))).toBe('UPSTREAM_CIRCUIT_OPEN:5')
    await vi.advanceTimersByTimeAsync(3200)
    expect(await codeOf(guard.run(counted, ok))).toBe('UPSTREAM_CIRCUIT_OPEN:2')
    expect(called).toBe(0)
    expect(log.mock.calls.map(([message]) => message)).toEqual([expect.stringMatching(/upstream circuit open after 3 consecutive failures/)])
  })

  it('a success between failures resets the count; 502/503/504 answers count as failures through `outcome`', async () => {
    const guard = createUpstreamGuard(OPTIONS)
    await codeOf(guard.run(down, ok))
    await codeOf(guard.run(down, ok))
    await guard.run(async () => 200, ok)
    await codeOf(guard.run(down, ok))
    await codeOf(guard.run(down, ok))
    expect(guard.state().circuit).toBe('closed')
    await guard.run(async () => 503, status => status >= 502 ? 'failed' : 'ok')
    expect(guard.state().circuit).toBe('open')
  })

  it('errors that say nothing about Cockpit (missing key, body too large, a hook error) never open it', async () => {
    const guard = createUpstreamGuard(OPTIONS)
    for (let i = 0; i < 10; i++) {
      await codeOf(guard.run(() => Promise.reject(new CockpitError('MISSING_KEY')), ok))
      await codeOf(guard.run(() => Promise.reject(new CockpitError('UPSTREAM_ERROR')), ok))
      await codeOf(guard.run(() => Promise.reject(new Error('hook')), ok))
    }
    expect(guard.state().circuit).toBe('closed')
  })

  it('after the cool-down exactly one probe goes through; its success closes the circuit, its failure reopens it', async () => {
    const log = vi.fn()
    const guard = createUpstreamGuard({ ...OPTIONS, log })
    for (let i = 0; i < 3; i++) await codeOf(guard.run(down, ok))
    await vi.advanceTimersByTimeAsync(5000)

    const probe = deferred()
    const probing = guard.run(() => probe.promise, ok)
    expect(guard.state().circuit).toBe('half-open')
    // Everyone else still fails fast while the probe is out.
    expect(await codeOf(guard.run(async () => 'x', ok))).toMatch(/^UPSTREAM_CIRCUIT_OPEN:/)
    probe.reject(new CockpitError('UPSTREAM_TIMEOUT'))
    expect(await codeOf(probing)).toBe('UPSTREAM_TIMEOUT:-')
    expect(guard.state().circuit).toBe('open')
    expect(await codeOf(guard.run(async () => 'x', ok))).toBe('UPSTREAM_CIRCUIT_OPEN:5')

    await vi.advanceTimersByTimeAsync(5000)
    expect(await guard.run(async () => 'back', ok)).toBe('back')
    expect(guard.state().circuit).toBe('closed')
    expect(await guard.run(async () => 'again', ok)).toBe('again')
    // One line per transition: opened, closed (the failed probe kept it open: no new line).
    expect(log.mock.calls.map(([message]) => message)).toEqual([
      expect.stringMatching(/circuit open/),
      expect.stringMatching(/circuit closed/),
    ])
  })

  it('a probe that proves nothing hands the probe on to the next call', async () => {
    const guard = createUpstreamGuard(OPTIONS)
    for (let i = 0; i < 3; i++) await codeOf(guard.run(down, ok))
    await vi.advanceTimersByTimeAsync(5000)
    expect(await codeOf(guard.run(() => Promise.reject(new CockpitError('MISSING_KEY')), ok))).toBe('MISSING_KEY:-')
    expect(await guard.run(async () => 'probe', ok)).toBe('probe')
    expect(guard.state().circuit).toBe('closed')
  })

  it('0 means never open', async () => {
    const guard = createUpstreamGuard({ ...OPTIONS, breakerThreshold: 0 })
    for (let i = 0; i < 20; i++) await codeOf(guard.run(down, ok))
    expect(guard.state().circuit).toBe('closed')
  })
})
