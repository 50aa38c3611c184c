import { createError } from 'h3'
import type { CockpitForm } from '../../shared/utils/cockpit-form'
import { getCockpitModel } from '../content/cockpit-models'

const registry = new Map<string, CockpitForm>()

/**
 * Makes declared public forms reachable at `POST {prefix}/forms/:name` (and their token at
 * `GET {prefix}/forms/:name/token`); call it from a Nitro plugin of your app. Registering a name twice with another
 * declaration, or a form whose v2 model is also a declared (readable) model, is an error: submissions must never be
 * readable through the gateway.
 * @public
 * @param forms forms from `defineCockpitForm`
 * @example
 * // server/plugins/cockpit-forms.ts
 * import { contact } from '#shared/contact'
 * export default defineNitroPlugin(() => registerCockpitForms(contact))
 */
export function registerCockpitForms(...forms: CockpitForm[]): void {
  for (const form of forms) {
    const existing = registry.get(form.name)
    if (existing && existing !== form) throw new Error(`Cockpit form ${form.name} is registered twice`)
    if (getCockpitModel(form.model)) throw new Error(`Cockpit form ${form.name}: its model ${form.model} is also a declared model, which would make submissions readable`)
    registry.set(form.name, form)
  }
}

/**
 * The declared form called `name`, or 404 `FORM_NOT_FOUND`. A form whose model has since been declared
 * as a model too is refused (500 `CONFIG_INVALID`) rather than accepted into a readable model.
 * @param name form name from the URL
 */
export function requireCockpitForm(name: string): CockpitForm {
  const form = registry.get(name)
  if (!form) throw createError({ statusCode: 404, statusMessage: 'Form not found', data: { code: 'FORM_NOT_FOUND' } })
  if (getCockpitModel(form.model)) {
    console.error(`[cockpit-gateway] form ${form.name}: its model is also a declared model; submissions refused`)
    throw createError({ statusCode: 500, statusMessage: 'Gateway misconfigured', data: { code: 'CONFIG_INVALID' } })
  }
  return form
}
