import type { CockpitForm } from '../../shared/utils/cockpit-form'
import { addCockpitForms } from '../submissions/registry'

/**
 * Makes declared public forms reachable at `POST {prefix}/forms/:name` (and their token at
 * `GET {prefix}/forms/:name/token`); call it from a Nitro plugin of your app. Registering a name twice, or a
 * form whose v2 model is also a declared model (its submissions would be readable), is an error.
 * @public
 * @param forms forms from `defineCockpitForm`
 * @example
 * // server/plugins/cockpit-forms.ts
 * import { contact } from '#shared/contact'
 * export default defineNitroPlugin(() => registerCockpitForms(contact))
 */
export function registerCockpitForms(...forms: CockpitForm[]): void {
  addCockpitForms(forms)
}
