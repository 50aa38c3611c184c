import { createError } from 'h3'
import type { H3Event } from 'h3'
import type { CockpitForm } from '../../shared/utils/cockpit-form'
import { useCockpitClient, useCockpitHttp } from '../cockpit/cockpit'
import { CockpitError, withCockpitErrors } from '../cockpit/cockpit-errors'
import { cockpitStatusError, parseCockpitJson } from '../cockpit/cockpit-response'
import { encodeCockpitModel, isCockpitPlainObject, requireCockpitKey } from '../cockpit/cockpit-validate'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayConfig } from '../config/gateway-config'

/** A submission's fields after the form's schema: plain values only. */
export type FormSubmissionData = Record<string, string | number | boolean | null>

/**
 * v1 (contract 5.2): `POST /api/forms/submit/{form}` with `{form:{…}}` and the submit key in `Cockpit-Token`,
 * never the `__csrf` trick (a bcrypt hash of the public form name, which needs no key at all). Cockpit answers
 * an echo of the fields; an empty 404 means the form does not exist (or the body had no fields).
 */
async function submitV1(event: H3Event, config: GatewayConfig, form: CockpitForm, data: FormSubmissionData): Promise<void> {
  // Not part of the content adapter: the shared transport (its cap, breaker and request id) is called directly.
  const http = useCockpitHttp(event)
  const secretHeaders = { 'cockpit-token': requireCockpitKey(config.cockpit.submitKey) }
  const path = `/api/forms/submit/${encodeCockpitModel(form.form)}`
  const response = await http({ method: 'POST', path, json: { form: data }, secretHeaders, operation: 'form:submit', model: form.form })
  if (response.status === 401) throw new CockpitError('UPSTREAM_AUTH_FAILED', 401)
  if (response.status === 404) throw new CockpitError('MODEL_NOT_FOUND', 404)
  if (response.status !== 200) throw cockpitStatusError(response.status)
  const body = parseCockpitJson(response.text)
  if (!isCockpitPlainObject(body)) throw new CockpitError('UPSTREAM_ERROR', 200)
  // A form with `email_forward` whose mail failed still stored the entry: a success, noted without the mailer's text.
  if ('error' in body && 'data' in body) console.warn(`[cockpit-gateway] form ${form.name}: stored, but Cockpit could not mail it`)
}

/**
 * Stores one submission in Cockpit with the submit key (`NUXT_COCKPIT_SUBMIT_KEY`; never the write key: 500
 * `MISSING_KEY` when it is not set). v2: an item of the form's model, with `_state: 1` set by the gateway (a
 * `_state: 0` item would be invisible to every API read); nothing of the stored item is returned. v1: an entry
 * of the form's Cockpit form. Upstream failures become the gateway's usual 4xx/5xx codes.
 * @param event the request
 * @param form the declared form
 * @param data the validated fields
 */
export async function storeFormSubmission(event: H3Event, form: CockpitForm, data: FormSubmissionData): Promise<void> {
  const config = useGatewayConfig(event)
  // The key was checked before anything else (`requireFormSubmitKey`).
  if (config.cockpit.version === 2) await withCockpitErrors(useCockpitClient(event).create(form.model, { ...data, _state: 1 }, { key: config.cockpit.submitKey }))
  else await withCockpitErrors(submitV1(event, config, form, data))
}

/**
 * 500 `MISSING_KEY` before anything else is done when no submit key is set, so a visitor is not asked to
 * solve a captcha for a form that cannot be stored.
 * @param event the request
 */
export function requireFormSubmitKey(event: H3Event): void {
  if (useGatewayConfig(event).cockpit.submitKey) return
  console.error('[cockpit-gateway] NUXT_COCKPIT_SUBMIT_KEY is not set; form submissions refused')
  throw createError({ statusCode: 500, statusMessage: 'Gateway misconfigured', data: { code: 'MISSING_KEY' } })
}
