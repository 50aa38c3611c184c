import type { V1Collection } from './models'
import type { Doc } from './query'

const TEXT_TYPES = new Set(['text', 'textarea', 'wysiwyg', 'markdown', 'html', 'code', 'password', 'string'])

/**
 * Casts the sent fields by type, as Cockpit 0.12 saves them: booleans from `"true"`/`"false"`/`"1"`/`"0"`,
 * text `""` → `null`, numbers from numeric strings. Unknown keys stay untouched (and are kept).
 */
export function castV1Entry(collection: V1Collection, entry: Doc): Doc {
  const cast: Doc = { ...entry }
  for (const field of collection.fields) {
    if (!Object.hasOwn(cast, field.name)) continue
    cast[field.name] = castValue(field.type, cast[field.name])
  }
  return cast
}

function castValue(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (type === 'boolean') {
    if (typeof value === 'string') return !['', '0', 'false'].includes(value.trim().toLowerCase())
    return Boolean(value)
  }
  if (TEXT_TYPES.has(type)) {
    if (value === '') return null
    return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value
  }
  if (type === 'number' && typeof value === 'string') {
    if (value.trim() === '') return null
    return Number.isNaN(Number(value)) ? value : Number(value)
  }
  return value
}

/** The first required field that is missing, null or empty on a create, for `The <name> is required!`. */
export function findMissingRequiredField(collection: V1Collection, entry: Doc): string | undefined {
  return collection.fields.find(field => field.required && (entry[field.name] === undefined || entry[field.name] === null || entry[field.name] === ''))?.name
}
