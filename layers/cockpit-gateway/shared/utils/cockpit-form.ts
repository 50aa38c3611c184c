import type { z } from 'zod'
import { COCKPIT_NAME_PATTERN } from '../internal/cockpit-name'

/** Options of a public form, declared once in the app's own code. */
export interface CockpitFormOptions<S extends z.ZodObject = z.ZodObject> {
  /**
   * What a visitor may send: a zod object of plain fields (strings, numbers, booleans). It is made strict,
   * so an unknown field is refused (422), and no field may start with `_` (Cockpit's system fields).
   */
  schema: S
  /** v2: the collection model a submission becomes an item of (created with the submit key). @default the form's name */
  model?: string
  /** v1: the Cockpit form of `/api/forms/submit/{form}`. @default the form's name */
  form?: string
  /**
   * Name of the honeypot field: rendered hidden, left empty by people, filled in by bots. A filled honeypot
   * gets the same answer as a success and nothing is stored. @default 'website'
   */
  honeypot?: string
}

/** A declared public form: its name plus its fully defaulted options (the schema made strict). */
export interface CockpitForm<S extends z.ZodObject = z.ZodObject> {
  name: string
  schema: S
  model: string
  form: string
  honeypot: string
}

/** What a visitor sends for a declared form. */
export type CockpitFormData<F> = F extends CockpitForm<infer S> ? z.input<S> : never

/**
 * Declares a public form (an anonymous visitor's message, e.g. a contact form) that the gateway accepts at
 * `POST {prefix}/forms/:name` and stores in Cockpit. Use the same object on the server
 * (`registerCockpitForms`) and in the page (`useCockpitForm`).
 * @param name the form's name in the URL
 * @param options the schema, where submissions go, the honeypot
 * @example
 * export const contact = defineCockpitForm('contact', {
 *   schema: z.object({ name: z.string().trim().min(1).max(200), email: z.email().max(320), message: z.string().trim().min(1).max(5000) }),
 *   model: 'messages', // v2: items of the collection `messages`; v1: the form `contact`
 * })
 */
export function defineCockpitForm<S extends z.ZodObject>(name: string, options: CockpitFormOptions<S>): CockpitForm<S> {
  if (!COCKPIT_NAME_PATTERN.test(name)) throw new Error(`Invalid form name: ${JSON.stringify(name)}`)
  const model = options.model ?? name
  const form = options.form ?? name
  for (const target of [model, form]) {
    if (!COCKPIT_NAME_PATTERN.test(target)) throw new Error(`Form ${name}: invalid Cockpit name ${JSON.stringify(target)}`)
  }
  const honeypot = options.honeypot ?? 'website'
  if (!/^[A-Za-z][\w-]{0,63}$/.test(honeypot)) throw new Error(`Form ${name}: invalid honeypot field name ${JSON.stringify(honeypot)}`)
  const fields = Object.keys(options.schema.shape)
  const systemFields = fields.filter(field => field.startsWith('_'))
  if (systemFields.length) throw new Error(`Form ${name}: system fields cannot be in the schema (${systemFields.join(', ')})`)
  if (fields.includes(honeypot)) throw new Error(`Form ${name}: the honeypot ${honeypot} cannot be a field of the schema`)
  return { name, schema: options.schema.strict() as S, model, form, honeypot }
}
