import { CockpitError } from './cockpit-errors'
import type { CockpitItem } from './cockpit-types'
import { isCockpitPlainObject } from './cockpit-validate'

// Reading upstream answers: bodies are parsed only to classify them or to pick known fields out of
// them. No helper here ever copies a body, or part of one, into an error.

/**
 * Parses an upstream body as JSON.
 * @param text the body text
 * @returns the value, or `undefined` for an empty or non-JSON body
 */
export function parseCockpitJson(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  }
  catch {
    return undefined
  }
}

/**
 * Reads the `error` string of a Cockpit error body (`{"error":"…"}`), only to classify the failure.
 * @param text the body text
 * @returns the error string, or `undefined`
 */
export function readCockpitErrorMessage(text: string): string | undefined {
  const body = parseCockpitJson(text)
  return isCockpitPlainObject(body) && typeof body.error === 'string' ? body.error : undefined
}

/**
 * The error for a status no version-specific rule claimed: 502 and 503 mean Cockpit (or its proxy)
 * is unavailable; anything else, redirects included, is an unexpected upstream answer.
 * @param status the upstream status
 */
export function cockpitStatusError(status: number): CockpitError {
  return new CockpitError(status === 502 || status === 503 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_ERROR', status)
}

/**
 * Checks that a success body is one item: an object with a string `_id`.
 * @param value the parsed body
 * @param status the upstream status, kept on the error
 * @throws CockpitError `UPSTREAM_ERROR` for any other shape
 */
export function requireCockpitItem(value: unknown, status?: number): CockpitItem {
  if (!isCockpitPlainObject(value) || typeof value._id !== 'string') throw new CockpitError('UPSTREAM_ERROR', status)
  return value as CockpitItem
}

/**
 * Checks that a list is an array of objects. `_id` is not required: a projection may leave it out.
 * @param value the parsed list
 * @param status the upstream status, kept on the error
 * @throws CockpitError `UPSTREAM_ERROR` for any other shape
 */
export function requireCockpitItems(value: unknown, status?: number): CockpitItem[] {
  if (!Array.isArray(value) || !value.every(isCockpitPlainObject)) throw new CockpitError('UPSTREAM_ERROR', status)
  return value as CockpitItem[]
}

/**
 * Checks that a total is a non-negative integer.
 * @param value the parsed total
 * @param status the upstream status, kept on the error
 * @throws CockpitError `UPSTREAM_ERROR` otherwise
 */
export function requireCockpitTotal(value: unknown, status?: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new CockpitError('UPSTREAM_ERROR', status)
  return value
}
