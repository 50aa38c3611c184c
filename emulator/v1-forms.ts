import bcrypt from 'bcryptjs'
import { createObjectId, nowSeconds } from './ids'
import { JSON_TYPE, LIME_HTML, sendExact, sendJson } from './http'
import { isPlainObject } from './json'
import { getV1Form } from './models'
import type { ApiRequest } from './request'
import { getApiSegments } from './request'
import type { DocumentStore } from './store'
import type { V1Caller } from './v1-auth'
import { isV1SuperAdmin } from './v1-auth'

/** Entries of a form: `forms/<name>`. */
export const v1FormEntriesKey = (form: string) => `v1:forms:${form}`

/**
 * The highest bcrypt cost the emulator verifies. A forged `__csrf` with cost 31 would keep PHP
 * busy for hours; the emulator treats such a hash as wrong instead.
 */
const MAX_CSRF_COST = 12

/** Whether a request may reach `forms/submit` without a token: it carries a `__csrf` to check. */
export function isV1CsrfSubmit(request: ApiRequest): boolean {
  const [resource = '', action = ''] = getApiSegments(request.path)
  return resource === 'forms' && action.toLowerCase() === 'submit' && typeof request.params.__csrf === 'string' && request.params.__csrf !== ''
}

/** `password_verify(<form name>, __csrf)`: anyone can make this hash, since the form name is public. */
export function isValidFormCsrf(form: string, csrf: unknown): boolean {
  if (typeof csrf !== 'string') return false
  const cost = /^\$2[abxy]\$(\d{2})\$/.exec(csrf)
  if (!cost || Number(cost[1]) > MAX_CSRF_COST) return false
  try {
    return bcrypt.compareSync(form, csrf.replace(/^\$2y\$/, '$2a$'))
  }
  catch {
    return false
  }
}

/** What the form handlers need; `caller` is `null` for a token-less call carrying `__csrf`. */
export interface V1FormContext {
  request: ApiRequest
  store: DocumentStore
  caller: V1Caller | null
}

const sendEmpty404 = (request: ApiRequest) => sendExact(request.event, 404, '', LIME_HTML)

/**
 * `/api/forms/submit/{form}` with `{form:{…}}` (JSON, form-encoded or query): stores
 * `{data, _modified, _created, _id}` and echoes `form`. Any token that reaches the route may
 * submit; without one, a `__csrf` that verifies against the form name does. No field validation.
 */
export async function submitV1Form(context: V1FormContext, name: string | undefined): Promise<void> {
  const { request, store, caller } = context
  const form = name === undefined ? undefined : getV1Form(name)
  if (!form) return sendEmpty404(request)
  if (!caller && !isValidFormCsrf(form.name, request.params.__csrf)) return sendEmpty404(request)
  const data = request.params.form
  if (!isPlainObject(data) || Object.keys(data).length === 0) return sendEmpty404(request)
  if (form.save_entry) {
    const now = nowSeconds()
    await store.mutate(v1FormEntriesKey(form.name), (docs) => {
      docs.push({ data, _modified: now, _created: now, _id: createObjectId() })
    })
  }
  return sendJson(request.event, 200, data)
}

/**
 * `/api/forms/export/{form}`: every entry, for the master key and admin accounts; other accounts
 * get `401 Unauthorized` as plain text.
 */
export async function exportV1Form(context: V1FormContext, name: string | undefined): Promise<void> {
  const { request, store, caller } = context
  if (!caller || !isV1SuperAdmin(caller)) return sendExact(request.event, 401, 'Unauthorized', LIME_HTML)
  const form = name === undefined ? undefined : getV1Form(name)
  if (!form) return sendExact(request.event, 404, '', JSON_TYPE)
  return sendJson(request.event, 200, await store.read(v1FormEntriesKey(form.name)))
}
