import { contact } from '#shared/contact'

export default defineNitroPlugin(() => registerCockpitForms(contact))
