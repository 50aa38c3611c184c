import { createError, getRequestHeader } from 'h3'
import type { H3Event } from 'h3'
import { z } from 'zod'

/** An `Idempotency-Key`: 1 to 128 printable ASCII characters (a UUID is the usual choice). */
export const idempotencyKeySchema = z.string().regex(/^[\x20-\x7E]{1,128}$/)

/** A valid `Idempotency-Key`. */
export type IdempotencyKey = z.infer<typeof idempotencyKeySchema>

/**
 * The request's `Idempotency-Key`, validated; `undefined` when it sends none.
 * @param event the request
 * @throws 400 `INVALID_IDEMPOTENCY_KEY` when the header is empty, too long or not printable ASCII
 */
export function readIdempotencyKey(event: H3Event): IdempotencyKey | undefined {
  const header = getRequestHeader(event, 'idempotency-key')
  if (header === undefined) return undefined
  const parsed = idempotencyKeySchema.safeParse(header)
  if (!parsed.success) throw invalidIdempotencyKey()
  return parsed.data
}

/** 400 `INVALID_IDEMPOTENCY_KEY`. */
export function invalidIdempotencyKey(): Error {
  return createError({ statusCode: 400, statusMessage: 'Invalid idempotency key', data: { code: 'INVALID_IDEMPOTENCY_KEY' } })
}
