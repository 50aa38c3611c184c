import { createError } from 'h3'
import type { H3Error } from 'h3'

/**
 * Stable machine codes of everything that can go wrong between the gateway and Cockpit.
 * They are part of the public contract: clients switch on `data.code`, never on messages.
 */
export const COCKPIT_ERROR_CODES = [
  'UPSTREAM_AUTH_FAILED',
  'UPSTREAM_FORBIDDEN',
  'MODEL_NOT_FOUND',
  'NOT_FOUND',
  'INVALID_QUERY',
  'INVALID_DATA',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_ERROR',
  'UPSTREAM_BUSY',
  'UPSTREAM_CIRCUIT_OPEN',
  'MISSING_KEY',
  'NOT_SUPPORTED',
] as const

/** One of {@link COCKPIT_ERROR_CODES}. */
export type CockpitErrorCode = (typeof COCKPIT_ERROR_CODES)[number]

const STATUS_BY_CODE: Record<CockpitErrorCode, [number, string]> = {
  UPSTREAM_AUTH_FAILED: [502, 'Upstream authentication failed'],
  UPSTREAM_FORBIDDEN: [403, 'Forbidden by the CMS'],
  MODEL_NOT_FOUND: [404, 'Model not found'],
  NOT_FOUND: [404, 'Item not found'],
  INVALID_QUERY: [400, 'Invalid query'],
  INVALID_DATA: [422, 'Invalid data'],
  UPSTREAM_UNAVAILABLE: [503, 'Upstream unavailable'],
  UPSTREAM_TIMEOUT: [504, 'Upstream timeout'],
  UPSTREAM_ERROR: [502, 'Upstream error'],
  UPSTREAM_BUSY: [503, 'Upstream busy'],
  UPSTREAM_CIRCUIT_OPEN: [503, 'Upstream unavailable'],
  MISSING_KEY: [500, 'Gateway misconfigured'],
  NOT_SUPPORTED: [501, 'Not supported by this Cockpit version'],
}

/**
 * A typed failure of a Cockpit call. Its message is a fixed sentence chosen by the code: it never
 * carries an upstream body, a URL or a key, so it is safe to log and to turn into a response.
 */
export class CockpitError extends Error {
  /** Stable machine code. */
  readonly code: CockpitErrorCode
  /** HTTP status the gateway answers with. */
  readonly statusCode: number
  /** Status Cockpit answered with, when there was an answer (never its body). */
  readonly upstreamStatus?: number
  /** When the gateway itself refused the call: seconds until a retry may work (`Retry-After`). */
  readonly retryAfter?: number
  /** The call never left: the connection to Cockpit was refused, so no request byte was sent. */
  readonly notSent?: boolean

  constructor(code: CockpitErrorCode, upstreamStatus?: number, retryAfter?: number, notSent?: boolean) {
    const [statusCode, message] = STATUS_BY_CODE[code]
    super(message)
    this.name = 'CockpitError'
    this.code = code
    this.statusCode = statusCode
    this.upstreamStatus = upstreamStatus
    this.retryAfter = retryAfter
    if (notSent) this.notSent = true
  }
}

/**
 * Whether a value is a {@link CockpitError}.
 * @param error any thrown value
 */
export function isCockpitError(error: unknown): error is CockpitError {
  return error instanceof CockpitError
}

/**
 * Turns a {@link CockpitError} into the h3 error the gateway answers with:
 * `{ statusCode, statusMessage, data: { code } }` (plus `retryAfter` in seconds when the gateway refused the call
 * itself; the error handler sends it as `Retry-After`), nothing else.
 * @param error the client error
 */
export function cockpitErrorToH3(error: CockpitError): H3Error {
  const data = error.retryAfter === undefined ? { code: error.code } : { code: error.code, retryAfter: error.retryAfter }
  const answer = createError({ statusCode: error.statusCode, statusMessage: error.message, data })
  // A symbol, not a field of `data`: it decides whether an idempotency key is given back, and is no client's business.
  if (error.notSent) Object.defineProperty(answer, NOT_SENT, { value: true })
  return answer
}

const NOT_SENT = Symbol('cockpit call not sent')

/**
 * Whether a failed write's error says its Cockpit call never left (the connection was refused), so that
 * nothing can have been stored: a {@link CockpitError} with `notSent`, or the answer {@link cockpitErrorToH3}
 * made of one.
 * @param error any thrown value
 */
export function isCockpitCallNotSent(error: unknown): boolean {
  return isCockpitError(error) ? error.notSent === true : typeof error === 'object' && error !== null && NOT_SENT in error
}

/**
 * Awaits a Cockpit call and turns a {@link CockpitError} into the gateway's answer ({@link cockpitErrorToH3});
 * anything else is rethrown as it is.
 * @param call the pending call
 */
export async function withCockpitErrors<T>(call: Promise<T>): Promise<T> {
  try {
    return await call
  }
  catch (error) {
    throw isCockpitError(error) ? cockpitErrorToH3(error) : error
  }
}
