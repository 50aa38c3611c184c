import type { z } from 'zod'
import type { CockpitReadAccess, CockpitWriteAccess } from './cockpit-model'
import { COCKPIT_NAME_PATTERN } from '../internal/cockpit-name'

/** The policy of one singleton (site-wide settings and the like), declared once in the app's own code. */
export interface CockpitSingletonOptions<S extends z.ZodObject = z.ZodObject> {
  /** The value's fields (no system fields). Reads return only these; `PATCH` validates against its strict partial. */
  schema: S
  /** @default 'public' */
  read?: CockpitReadAccess
  /** Roles that may change it through `PATCH {prefix}/singletons/:name` (v2 only). @default [] (nobody) */
  update?: CockpitWriteAccess
}

/** A declared singleton: its name plus its fully defaulted policy. */
export interface CockpitSingleton<S extends z.ZodObject = z.ZodObject> extends Required<CockpitSingletonOptions<S>> {
  name: string
  kind: 'singleton'
}

/**
 * A singleton's value as the gateway returns it: the schema's fields only, each possibly `null` (Cockpit
 * stores `null` for a field that was never saved).
 */
export type CockpitSingletonValue<T> = T extends CockpitSingleton<infer S> ? { [K in keyof z.infer<S>]: z.infer<S>[K] | null } : never

/**
 * Declares a Cockpit singleton the browser may read (and, for some roles, change) through the gateway.
 * Undeclared singletons do not exist for the browser. Use the same object on the server
 * (`registerCockpitSingletons`) and in components (`useCockpitSingleton`).
 * @param name Cockpit singleton name (v2: a model of type singleton)
 * @param options the policy
 * @example
 * export const settings = defineCockpitSingleton('settings', {
 *   schema: z.object({ siteTitle: z.string().min(1).max(120), tagline: z.string().max(300) }),
 *   read: 'public', update: ['admin'],
 * })
 */
export function defineCockpitSingleton<S extends z.ZodObject>(name: string, options: CockpitSingletonOptions<S>): CockpitSingleton<S> {
  if (!COCKPIT_NAME_PATTERN.test(name)) throw new Error(`Invalid Cockpit singleton name: ${JSON.stringify(name)}`)
  const systemFields = Object.keys(options.schema.shape).filter(field => field.startsWith('_'))
  if (systemFields.length) throw new Error(`Singleton ${name}: system fields cannot be in the schema (${systemFields.join(', ')})`)
  return {
    name,
    kind: 'singleton',
    schema: options.schema,
    read: options.read ?? 'public',
    update: options.update ?? [],
  }
}
