import { CockpitError } from './cockpit-errors'

/** Limits of the per-instance guard in front of Cockpit (all from `runtimeConfig.cockpit`). */
export interface UpstreamGuardOptions {
  /** Calls in flight at once; more wait in the queue. 0 = no cap. */
  maxConcurrent: number
  /** Calls that may wait for a slot; beyond it 503 `UPSTREAM_BUSY` at once. */
  queueSize: number
  /** Longest wait for a slot in ms, then 503 `UPSTREAM_BUSY`. */
  queueTimeout: number
  /** Consecutive failed calls (no answer, or a 5xx) that open the circuit. 0 = never. */
  breakerThreshold: number
  /** How long an open circuit fails fast, in ms, before one probe call is let through. */
  breakerCoolDown: number
  /** Told once per transition (and once per busy spell), with a fixed sentence. */
  log?: (message: string) => void
}

/** How a finished call counts for the circuit: Cockpit answered, failed, or the call says nothing either way. */
export type UpstreamOutcome = 'ok' | 'failed' | 'neutral'

/** Runs upstream calls within the cap and the circuit; see {@link createUpstreamGuard}. */
export interface UpstreamGuard {
  /**
   * Waits for a slot (or refuses), runs `call`, and feeds its outcome to the circuit.
   * @param call the upstream attempt
   * @param outcome how a resolved result counts (e.g. a 503 answer is a failure)
   * @throws CockpitError `UPSTREAM_BUSY` or `UPSTREAM_CIRCUIT_OPEN` without calling; whatever `call` throws
   */
  run: <T>(call: () => Promise<T>, outcome: (result: T) => UpstreamOutcome) => Promise<T>
  /** Current state, for tests: `closed`, `open` or `half-open`, calls in flight and waiting. */
  state: () => { circuit: 'closed' | 'open' | 'half-open', active: number, queued: number }
}

interface Waiter {
  resolve: () => void
  timer: ReturnType<typeof setTimeout>
}

// Errors that say Cockpit did not answer in time or at all. Anything else (a body over the cap, a missing
// key, a hook's own error) says nothing about Cockpit's health.
const FAILURE_CODES = new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT'])

/**
 * A per-instance guard for upstream calls: at most `maxConcurrent` in flight with a short bounded queue
 * (503 `UPSTREAM_BUSY` with `Retry-After: 1` beyond it), and a circuit breaker that opens after
 * `breakerThreshold` consecutive failures, fails fast with 503 `UPSTREAM_CIRCUIT_OPEN` (and an honest
 * `Retry-After`) for `breakerCoolDown` ms, then lets exactly one probe through: its success closes the
 * circuit, its failure opens it again. Costs a counter and a comparison per call when healthy.
 * @param options limits and the logger
 */
export function createUpstreamGuard(options: UpstreamGuardOptions): UpstreamGuard {
  const { maxConcurrent, queueSize, queueTimeout, breakerThreshold, breakerCoolDown } = options
  const log = options.log ?? (() => {})
  let active = 0
  const queue: Waiter[] = []
  let busyLogged = false
  let failures = 0
  let openUntil = 0
  let probing = false
  let circuit: 'closed' | 'open' | 'half-open' = 'closed'

  function refuseOpen(): never {
    throw new CockpitError('UPSTREAM_CIRCUIT_OPEN', undefined, Math.max(1, Math.ceil((openUntil - Date.now()) / 1000)))
  }

  /** Whether this call may go through the circuit; marks it as the probe when the cool-down is over. */
  function admit(): boolean {
    if (circuit === 'closed') return false
    if (circuit === 'open' && Date.now() >= openUntil && !probing) {
      circuit = 'half-open'
      probing = true
      return true
    }
    refuseOpen()
  }

  function record(result: UpstreamOutcome, probe: boolean) {
    if (probe) probing = false
    if (result === 'neutral') {
      // A probe that proved nothing hands the probe to the next call.
      if (probe) circuit = 'open'
      return
    }
    if (result === 'ok') {
      failures = 0
      if (circuit !== 'closed') {
        circuit = 'closed'
        log('[cockpit-gateway] upstream circuit closed: Cockpit answers again')
      }
      return
    }
    failures++
    if (breakerThreshold > 0 && (probe || (circuit === 'closed' && failures >= breakerThreshold))) {
      const reopened = circuit !== 'closed'
      circuit = 'open'
      openUntil = Date.now() + breakerCoolDown
      if (!reopened) log(`[cockpit-gateway] upstream circuit open after ${failures} consecutive failures: failing fast, one probe every ${breakerCoolDown} ms`)
    }
  }

  function release() {
    const next = queue.shift()
    if (next) {
      clearTimeout(next.timer)
      next.resolve()
      return
    }
    active--
    if (active === 0) busyLogged = false
  }

  async function acquire(): Promise<void> {
    if (maxConcurrent <= 0 || active < maxConcurrent) {
      active++
      return
    }
    if (queue.length >= queueSize) busy()
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1)
          try {
            busy()
          }
          catch (error) {
            reject(error)
          }
        }, queueTimeout),
      }
      queue.push(waiter)
    })
    // The slot was handed over by `release` without decrementing `active`.
  }

  function busy(): never {
    if (!busyLogged) {
      busyLogged = true
      log(`[cockpit-gateway] upstream busy: ${maxConcurrent} calls in flight and the queue full or waited out; answering 503`)
    }
    throw new CockpitError('UPSTREAM_BUSY', undefined, 1)
  }

  return {
    async run(call, outcome) {
      const probe = admit()
      try {
        await acquire()
      }
      catch (error) {
        record('neutral', probe)
        throw error
      }
      try {
        const result = await call()
        record(outcome(result), probe)
        return result
      }
      catch (error) {
        record(error instanceof CockpitError && FAILURE_CODES.has(error.code) ? 'failed' : 'neutral', probe)
        throw error
      }
      finally {
        release()
      }
    },
    state: () => ({ circuit, active, queued: queue.length }),
  }
}
