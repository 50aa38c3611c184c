import { createError, sendRedirect, setResponseStatus } from 'h3'
import type { H3Event } from 'h3'
import { z } from 'zod'
import type { CockpitForm } from '../../shared/utils/cockpit-form'
import { coerceFormFields, isFormPostFailure, sendFormFailure } from '../forms/form-post'
import type { FormBody } from '../forms/form-post'
import { getGatewayClientIp } from '../client-address/client-ip'
import { readGatewayBody, toGatewayIssues } from '../guards/gateway-body'
import { useGatewayConfig } from '../config/gateway-config'
import { getSafeRedirectPath } from '../login/gateway-login'
import { requireRateLimit } from '../rate-limit/gateway-rate-limit'
import { requireFormCaptcha } from './captcha'
import { requireFormSubmitKey, storeFormSubmission } from './store'
import type { FormSubmissionData } from './store'
import { requireFormSubmissionToken } from './token'

/** Name of the field that carries the form's submission token. */
export const FORM_SUBMISSION_TOKEN_FIELD = '_token'

/** Where a no-JS form sends the browser: `_success` after a submission, `_back` (with `?error=CODE`) after a refusal. */
const REDIRECT_FIELDS = ['_success', '_back'] as const

/** Any JSON object; its fields are checked below, one by one. */
const submissionBodySchema = z.record(z.string(), z.unknown())

/**
 * Only plain values reach the form's schema: Cockpit stores whatever it is sent (contract 5.1), so an operator
 * object such as `{"$gt":""}` or a nested document is refused here even if an app's schema would let it through.
 */
const plainValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()])
const plainFieldsSchema = z.record(z.string(), plainValueSchema)

function validationFailed(error: z.ZodError): never {
  throw createError({ statusCode: 422, statusMessage: 'Validation failed', data: { code: 'VALIDATION_FAILED', issues: toGatewayIssues(error) } })
}

/** Splits a body into the gateway's own fields and the visitor's fields. */
function splitBody(form: CockpitForm, body: Record<string, unknown>, captchaField: string, isForm: boolean) {
  const control = new Set<string>([FORM_SUBMISSION_TOKEN_FIELD, form.honeypot, captchaField, ...(isForm ? REDIRECT_FIELDS : [])])
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    if (!control.has(key)) fields[key] = value
  }
  return {
    token: body[FORM_SUBMISSION_TOKEN_FIELD],
    honeypot: body[form.honeypot],
    captcha: body[captchaField],
    fields: isForm ? coerceFormFields(form, fields as FormBody) : fields,
  }
}

function parseFields(form: CockpitForm, fields: Record<string, unknown>): FormSubmissionData {
  const plain = plainFieldsSchema.safeParse(fields)
  if (!plain.success) validationFailed(plain.error)
  const result = form.schema.safeParse(plain.data)
  if (!result.success) validationFailed(result.error)
  // A schema's transforms could still produce an object: what is stored must be plain too.
  const stored = plainFieldsSchema.safeParse(result.data)
  if (!stored.success) validationFailed(stored.error)
  return stored.data
}

async function acceptSubmission(event: H3Event, form: CockpitForm, body: Record<string, unknown>, isForm: boolean): Promise<void> {
  const config = useGatewayConfig(event)
  const parts = splitBody(form, body, config.forms.captcha.field, isForm)
  // Per address first: one address that is refused does not use up the form's shared budget.
  await requireRateLimit(event, 'submit', `${form.name}:${getGatewayClientIp(event, config.trustProxy)}`)
  await requireRateLimit(event, 'submitForm', form.name)
  await requireFormSubmissionToken(event, form.name, parts.token)
  // A filled honeypot is a bot: it gets a success and nothing is stored, so it learns nothing to adapt to.
  if (typeof parts.honeypot === 'string' ? parts.honeypot !== '' : parts.honeypot !== undefined) return
  const data = parseFields(form, parts.fields)
  await requireFormCaptcha(event, parts.captcha)
  await storeFormSubmission(event, form, data)
}

/**
 * Takes one anonymous submission of a declared form, JSON or urlencoded (a browser without JavaScript):
 * counts it against the per-IP and per-form limits, checks the submission token (issued at least
 * `forms.minSubmitTime` s before, not expired), the honeypot, the strict schema (plain values only; 422
 * `VALIDATION_FAILED`), the captcha when configured, then stores it in Cockpit with the submit key.
 * JSON: 201 `{ ok: true }`, nothing of the stored item. Urlencoded: 303 to the form's same-site `_success`
 * path, or back to `_back` with `?error=CODE` (and `retryAfter`); the typed text is not carried back, since
 * it would end up in URLs and access logs.
 * @param event the request
 * @param form the declared form
 */
export async function submitCockpitForm(event: H3Event, form: CockpitForm) {
  requireFormSubmitKey(event)
  const { data: body, form: isForm } = await readGatewayBody(event, submissionBodySchema, { form: true, invalidStatus: 422, maxBytes: useGatewayConfig(event).forms.bodySize })
  if (!isForm) {
    await acceptSubmission(event, form, body, false)
    setResponseStatus(event, 201)
    return { ok: true }
  }
  try {
    await acceptSubmission(event, form, body, true)
  }
  catch (error) {
    if (!isFormPostFailure(error)) throw error
    return sendFormFailure(event, body as FormBody, error, '/')
  }
  return sendRedirect(event, getSafeRedirectPath(body._success, '/'), 303)
}
