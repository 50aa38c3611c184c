import type { z } from 'zod'
import { COCKPIT_NAME_PATTERN } from '../internal/cockpit-name'

/**
 * Who may read a model: everyone, any logged-in user, or these gateway roles.
 * @public
 */
export type CockpitReadAccess = 'public' | 'authenticated' | readonly string[]

/**
 * Who may write: gateway roles, and `'owner'` for the user who created the item through the gateway.
 * @public
 */
export type CockpitWriteAccess = readonly string[]

/**
 * A filter operator a browser may use; `$regex` only on fields listed in `regexFields`.
 * @public
 */
export type CockpitFilterOperator = '$eq' | '$ne' | '$in' | '$nin' | '$gt' | '$gte' | '$lt' | '$lte' | '$regex'

/**
 * The policy of one model, declared once in the app's own code.
 * @public
 */
export interface CockpitModelOptions<S extends z.ZodObject = z.ZodObject> {
  /** The write contract: a zod object of the model's own fields (no system fields). */
  schema: S
  /** @default 'public' */
  read?: CockpitReadAccess
  /** @default [] (nobody) */
  create?: CockpitWriteAccess
  /** @default [] (nobody) */
  update?: CockpitWriteAccess
  /** @default [] (nobody) */
  delete?: CockpitWriteAccess
  /** Roles that may set v2's `_state` (publish/unpublish). @default [] */
  publish?: readonly string[]
  /** A field of the Cockpit model that stores the owner's user id; without it the gateway keeps owner records itself. */
  ownerField?: keyof z.infer<S> & string
  /** Fields a browser may filter on. @default [] */
  filterable?: readonly string[]
  /** Subset of `filterable` that also allows `$regex`. @default [] */
  regexFields?: readonly string[]
  /** Longest `$regex` pattern. @default 64 */
  maxRegexLength?: number
  /** Fields a browser may sort on (system fields `_created`, `_modified` may be listed). @default ['_created'] */
  sortable?: readonly string[]
  /**
   * Filter added to every read by users who can neither create nor update the model (e.g.
   * `{ published: true }` so visitors never see drafts). Such reads are the shared, cached ones.
   */
  publicFilter?: Record<string, unknown>
}

/**
 * A declared model: its name plus its fully defaulted policy.
 * @public
 */
export interface CockpitModel<S extends z.ZodObject = z.ZodObject> extends Required<Omit<CockpitModelOptions<S>, 'ownerField' | 'publicFilter'>> {
  name: string
  ownerField?: string
  publicFilter?: Record<string, unknown>
}

/**
 * An item of a declared model as the gateway returns it: the schema's fields plus Cockpit's system fields.
 * @public
 */
export type CockpitModelItem<M> = M extends CockpitModel<infer S> ? z.infer<S> & { _id: string, _created?: number, _modified?: number } : never

/**
 * Declares a Cockpit model the browser may reach through the gateway, and how. Undeclared models do
 * not exist for the browser. Use the same object on the server (`registerCockpitModels`) and in forms.
 * @param name Cockpit model (v2) or collection (v1) name
 * @param options the policy
 * @example
 * export const posts = defineCockpitModel('posts', {
 *   schema: z.object({ title: z.string().min(1), body: z.string().optional(), published: z.boolean() }),
 *   read: 'public', create: ['editor'], update: ['admin', 'owner'], delete: ['admin', 'owner'],
 *   filterable: ['published', 'title'], regexFields: ['title'], sortable: ['_created', 'title'],
 *   publicFilter: { published: true },
 * })
 * @public
 */
export function defineCockpitModel<S extends z.ZodObject>(name: string, options: CockpitModelOptions<S>): CockpitModel<S> {
  if (!COCKPIT_NAME_PATTERN.test(name)) throw new Error(`Invalid Cockpit model name: ${JSON.stringify(name)}`)
  const fields = Object.keys(options.schema.shape)
  const systemFields = fields.filter(field => field.startsWith('_'))
  if (systemFields.length) throw new Error(`Model ${name}: system fields cannot be in the schema (${systemFields.join(', ')})`)
  const filterable = options.filterable ?? []
  for (const field of [...filterable, ...(options.regexFields ?? [])]) {
    if (!fields.includes(field) && !['_id', '_created', '_modified'].includes(field)) throw new Error(`Model ${name}: unknown filterable field ${field}`)
  }
  for (const field of options.regexFields ?? []) {
    if (!filterable.includes(field)) throw new Error(`Model ${name}: regex field ${field} must also be filterable`)
  }
  return {
    name,
    schema: options.schema,
    read: options.read ?? 'public',
    create: options.create ?? [],
    update: options.update ?? [],
    delete: options.delete ?? [],
    publish: options.publish ?? [],
    ownerField: options.ownerField,
    filterable,
    regexFields: options.regexFields ?? [],
    maxRegexLength: options.maxRegexLength ?? 64,
    sortable: options.sortable ?? ['_created'],
    publicFilter: options.publicFilter,
  }
}
