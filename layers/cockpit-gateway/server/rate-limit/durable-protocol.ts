import type { BackoffPolicy, BackoffResult } from './backoff'
import type { GcraMode } from './gcra'
import type { RateLimitPolicy, RateLimitResult } from './rate-limit'

// What a worker asks the gateway's Durable Object (one JSON POST per call) and what it answers. Only the
// worker's own code reaches the object (through its binding, never from the internet), but its answers are
// still checked before use: a malformed one is a store failure, not a decision.

/** One call to a Durable Object of the gateway's state namespace. */
export type DurableStateRequest
  = | { op: 'gcra', key: string, mode: GcraMode, policy: RateLimitPolicy, cost: number, now?: number }
    | { op: 'backoff', key: string, mode: GcraMode, policy: BackoffPolicy, now?: number }
    | { op: 'get', key: string }
    | { op: 'set', key: string, value: string }
    | { op: 'remove', key: string }
    | { op: 'setIfAbsent', key: string, value: string }

/** The answer to a `get` or `setIfAbsent` (the value now stored, null when absent). */
export interface DurableValueReply {
  value: string | null
}

/** Answers by operation. */
export interface DurableStateReplies {
  gcra: RateLimitResult
  backoff: BackoffResult
  get: DurableValueReply
  set: DurableValueReply
  remove: DurableValueReply
  setIfAbsent: DurableValueReply
}

/** The driver name the limiter and the epoch recognise (see `durable-driver.ts`). */
export const DURABLE_DRIVER_NAME = 'cockpit-gateway-durable-object'

/** The client a mounted Durable Object driver hands out through `getInstance()`. */
export interface DurableStateClient {
  /**
   * Sends one call to the object that owns `request.key` and returns its checked answer.
   * @throws Error when the binding is missing, the object cannot be reached or answers something malformed
   */
  call<R extends DurableStateRequest>(request: R): Promise<DurableStateReplies[R['op']]>
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0

/**
 * Checks an object's answer for an operation; `undefined` when it is not what that operation returns.
 * @param op the operation asked
 * @param reply the parsed JSON answer
 */
export function readDurableReply<K extends DurableStateRequest['op']>(op: K, reply: unknown): DurableStateReplies[K] | undefined {
  if (!reply || typeof reply !== 'object') return undefined
  const r = reply as Record<string, unknown>
  if (op === 'gcra') {
    const ok = typeof r.allowed === 'boolean' && [r.limit, r.window, r.remaining, r.resetSeconds, r.retryAfterSeconds].every(isCount)
    return ok ? { allowed: r.allowed, limit: r.limit, window: r.window, remaining: r.remaining, resetSeconds: r.resetSeconds, retryAfterSeconds: r.retryAfterSeconds } as DurableStateReplies[K] : undefined
  }
  if (op === 'backoff') {
    const ok = typeof r.allowed === 'boolean' && isCount(r.failures) && isCount(r.retryAfterSeconds)
    return ok ? { allowed: r.allowed, failures: r.failures, retryAfterSeconds: r.retryAfterSeconds } as DurableStateReplies[K] : undefined
  }
  return r.value === null || typeof r.value === 'string' ? { value: r.value } as DurableStateReplies[K] : undefined
}
