import { createError, sendRedirect } from 'h3'
import type { H3Event } from 'h3'
import { z } from 'zod'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import { getGatewayBodyKind, readGatewayBody } from '../guards/gateway-body'
import { GATEWAY_FORM_TOKEN_FIELD } from './gateway-form-token'
import { getSafeRedirectPath } from '../login/gateway-login'
import { traceGatewayRefusal } from '../audit/request-trace'
import { idempotencyKeySchema, invalidIdempotencyKey } from '../writes/idempotency-key'
import type { IdempotencyKey } from '../writes/idempotency-key'

/** Hidden fields of an HTML form post: the token, and where to send the browser after success or failure. */
const CONTROL_FIELDS = new Set([GATEWAY_FORM_TOKEN_FIELD, '_success', '_back', '_etag', '_idempotency'])

/** Longest value kept in the `?error=` redirect back to a form; longer ones are listed in `lost` instead. */
const MAX_KEPT_VALUE = 2000

/** An urlencoded form body: every field once, as text (duplicates and prototype keys are refused by the reader). */
const formBodySchema = z.record(z.string(), z.string())

/** A form body. */
export type FormBody = z.infer<typeof formBodySchema>

/**
 * Reads an HTML form post (urlencoded only: anything else is 415 `UNSUPPORTED_MEDIA_TYPE`), with the
 * gateway's size cap and key checks.
 * @param event the request
 */
export async function readGatewayFormBody(event: H3Event): Promise<FormBody> {
  if (getGatewayBodyKind(event) !== 'form') {
    throw createError({ statusCode: 415, statusMessage: 'Unsupported media type', data: { code: 'UNSUPPORTED_MEDIA_TYPE' } })
  }
  const { data } = await readGatewayBody(event, formBodySchema, { form: true })
  return data
}

type FieldKind = 'boolean' | 'number' | 'other'

function getFieldKind(field: z.ZodType): FieldKind {
  const def = (field as unknown as { _zod: { def: { type: string, innerType?: z.ZodType, in?: z.ZodType } } })._zod.def
  if (def.type === 'boolean') return 'boolean'
  if (def.type === 'number') return 'number'
  const inner = def.innerType ?? def.in
  return inner ? getFieldKind(inner) : 'other'
}

/**
 * The model's fields of a form body, as the JSON routes would receive them: a checkbox of a boolean field
 * is `true` when sent (any value) and `false` when absent (browsers omit unchecked boxes, so a form must
 * render every boolean field of the model); a number field's text becomes a number (empty: left out). Other
 * fields stay text; fields the schema doesn't know are passed on, so the model's validation refuses them.
 * @param model the declared model (or a form or singleton: only its schema is used)
 * @param body the form body
 */
export function coerceFormFields(model: Pick<CockpitModel, 'schema'>, body: FormBody): Record<string, unknown> {
  const shape = model.schema.shape as Record<string, z.ZodType>
  const data: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(body)) {
    if (CONTROL_FIELDS.has(name)) continue
    const kind = shape[name] ? getFieldKind(shape[name]) : 'other'
    if (kind === 'number') {
      if (value.trim() !== '') data[name] = Number(value)
    }
    else if (kind !== 'boolean') data[name] = value
  }
  for (const [name, field] of Object.entries(shape)) {
    if (getFieldKind(field) === 'boolean') data[name] = name in body
  }
  return data
}

/**
 * After a successful form post: 303 to the form's `_success` path (a same-site path; `{id}` in it is
 * replaced by the item's id), else to `fallback`.
 * @param event the request
 * @param body the form body
 * @param fallback where to go when the form named no valid target
 * @param id the item's id
 */
export function sendFormSuccess(event: H3Event, body: FormBody, fallback: string, id?: string) {
  const template = typeof body._success === 'string' && id ? body._success.replaceAll('{id}', encodeURIComponent(id)) : body._success
  return sendRedirect(event, getSafeRedirectPath(template, fallback), 303)
}

/**
 * After a failed form post: 303 back to the form's `_back` path with `?error=CODE` (and `retryAfter`),
 * and the submitted model fields as query values so the form shows what was typed (never the token;
 * values over 2000 characters are named in `lost` instead). The page renders them as text only.
 * @param event the request
 * @param body the form body
 * @param error what went wrong
 * @param fallback where to go when the form named no valid page
 * @param model the model (or singleton) whose fields are kept
 */
export function sendFormFailure(event: H3Event, body: FormBody, error: unknown, fallback: string, model?: Pick<CockpitModel, 'schema'>) {
  const data = (error as { data?: { code?: unknown, retryAfter?: unknown } } | null)?.data ?? {}
  const back = getSafeRedirectPath(body._back, fallback)
  const url = new URL(back, 'http://gateway.invalid')
  for (const key of [...url.searchParams.keys()]) {
    if (key === 'error' || key === 'retryAfter' || key === 'lost' || (model && key in model.schema.shape)) url.searchParams.delete(key)
  }
  url.searchParams.set('error', typeof data.code === 'string' ? data.code : 'FORM_POST_FAILED')
  traceGatewayRefusal(event, url.searchParams.get('error')!)
  if (typeof data.retryAfter === 'number') url.searchParams.set('retryAfter', String(data.retryAfter))
  const lost: string[] = []
  for (const name of Object.keys(model?.schema.shape ?? {})) {
    const value = body[name]
    if (value === undefined) continue
    if (value.length > MAX_KEPT_VALUE) lost.push(name)
    else url.searchParams.set(name, value)
  }
  if (lost.length) url.searchParams.set('lost', lost.join(','))
  return sendRedirect(event, `${url.pathname}${url.search}`, 303)
}

/**
 * Whether an error is one the form page can explain (a gateway error with a stable code): those go back to
 * the form; anything else is unexpected and reaches the gateway's error handler (logged, 500).
 * @param error what was thrown
 */
export function isFormPostFailure(error: unknown): boolean {
  const data = (error as { data?: { code?: unknown } } | null)?.data
  return typeof data?.code === 'string'
}

/**
 * The write guarantees a form can carry in hidden fields, since it cannot send headers: `_etag` (the
 * `If-Match` of an update or delete: the ETag of the item the form was rendered from) and `_idempotency`
 * (an `Idempotency-Key` rendered with the form, so a double submit or a resubmitted page runs once).
 * @param body the form body
 * @throws 400 `INVALID_IDEMPOTENCY_KEY` when `_idempotency` is not a valid key
 */
export function readFormWriteGuards(body: FormBody): { ifMatch?: string, idempotencyKey?: IdempotencyKey } {
  const ifMatch = body._etag || undefined
  if (body._idempotency === undefined || body._idempotency === '') return { ifMatch }
  const parsed = idempotencyKeySchema.safeParse(body._idempotency)
  if (!parsed.success) throw invalidIdempotencyKey()
  return { ifMatch, idempotencyKey: parsed.data }
}
