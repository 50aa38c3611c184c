import { createError } from 'h3'
import { z } from 'zod'
import type { CockpitModel } from '../../shared/utils/cockpit-model'
import type { CockpitListQuery } from '../cockpit/cockpit-types'
import type { GatewayConfig } from '../config/gateway-config'
import type { GatewayIssue } from '../guards/gateway-body'
import { parseGatewayJson, toGatewayIssues } from '../guards/gateway-body'

const COMPARISON = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte'])
const SET = new Set(['$in', '$nin'])
const SYSTEM_READ_FIELDS = ['_id', '_created', '_modified']
const MAX_LIST_VALUES = 50
const MAX_STRING = 256

/** The query string a list read accepts; anything else (`api_key`, `token`, `populate`, `rspc`…) is refused. */
export const listQuerySchema = z.object({
  filter: z.string().max(2048).optional(),
  sort: z.string().max(256).optional(),
  limit: z.string().regex(/^\d{1,4}$/, 'An integer').optional(),
  skip: z.string().regex(/^\d{1,6}$/, 'An integer').optional(),
  fields: z.string().max(512).optional(),
  locale: z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, 'A locale code').optional(),
}).strict()

/** Raw list query as received. */
export type ListQueryInput = z.infer<typeof listQuerySchema>

/** The query string a single-item read accepts. */
export const itemQuerySchema = listQuerySchema.pick({ fields: true, locale: true }).strict()

function invalid(issues: GatewayIssue[]): never {
  throw createError({ statusCode: 400, statusMessage: 'Invalid query', data: { code: 'INVALID_QUERY', issues } })
}

function issue(path: (string | number)[], message: string): GatewayIssue {
  return { path, code: 'invalid_query', message }
}

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value.length <= MAX_STRING)
}

function checkCondition(model: CockpitModel, field: string, condition: unknown, path: string[]): void {
  if (isScalar(condition)) return
  if (typeof condition !== 'object' || Array.isArray(condition)) invalid([issue(path, 'A value or an operator object')])
  const entries = Object.entries(condition as object)
  if (entries.length === 0) invalid([issue(path, 'An empty condition')])
  for (const [operator, value] of entries) {
    const at = [...path, operator]
    if (COMPARISON.has(operator)) {
      if (!isScalar(value)) invalid([issue(at, 'A scalar value')])
    }
    else if (SET.has(operator)) {
      if (!Array.isArray(value) || value.length > MAX_LIST_VALUES || !value.every(isScalar)) invalid([issue(at, `An array of at most ${MAX_LIST_VALUES} scalars`)])
    }
    else if (operator === '$regex') {
      if (!model.regexFields.includes(field)) invalid([issue(at, 'Not allowed on this field')])
      if (typeof value !== 'string' || value.length > model.maxRegexLength) invalid([issue(at, `A pattern of at most ${model.maxRegexLength} characters`)])
      try {
        new RegExp(value)
      }
      catch {
        invalid([issue(at, 'An invalid pattern')])
      }
    }
    else {
      invalid([issue(at, 'Operator not allowed')])
    }
  }
}

/**
 * Validates a browser's filter against the model: declared filterable fields only, the safe operator
 * subset, `$and`/`$or` one level deep with field conditions inside. `$where`, `$func`, operators in a
 * field's place, unknown fields and deeper nesting are refused with 400 `INVALID_QUERY`.
 * @param model the declared model
 * @param filter the parsed filter
 */
export function validateCockpitFilter(model: CockpitModel, filter: unknown, depth = 0, path: (string | number)[] = ['filter']): Record<string, unknown> {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) invalid([issue(path, 'An object')])
  for (const [key, value] of Object.entries(filter)) {
    const at = [...path, key] as string[]
    if (key === '$and' || key === '$or') {
      if (depth > 0) invalid([issue(at, 'Nested too deeply')])
      if (!Array.isArray(value) || value.length === 0 || value.length > 10) invalid([issue(at, 'An array of 1 to 10 conditions')])
      value.forEach((clause, index) => validateCockpitFilter(model, clause, depth + 1, [...at, index]))
    }
    else if (key.startsWith('$')) {
      invalid([issue(at, 'Operator not allowed')])
    }
    else if (!model.filterable.includes(key)) {
      invalid([issue(at, 'Field not filterable')])
    }
    else {
      checkCondition(model, key, value, at)
    }
  }
  return filter as Record<string, unknown>
}

function parseFilter(raw: string): unknown {
  const parsed = parseGatewayJson(raw)
  if (parsed.ok) return parsed.value
  invalid([issue(['filter'], parsed.reason === 'malformed' ? 'Not valid JSON' : 'Forbidden key')])
}

function readableFields(model: CockpitModel): string[] {
  return [...Object.keys(model.schema.shape), ...SYSTEM_READ_FIELDS]
}

/**
 * Parses a `fields` parameter (`title,body`) into a projection of known fields.
 * @param model the declared model
 * @param raw comma-separated field names
 */
export function parseCockpitFields(model: CockpitModel, raw: string | undefined): Record<string, 0 | 1> | undefined {
  if (raw === undefined) return undefined
  const known = readableFields(model)
  const names = raw.split(',').map(name => name.trim()).filter(Boolean)
  const unknown = names.filter(name => !known.includes(name))
  if (!names.length || unknown.length) invalid([issue(['fields'], 'Unknown field')])
  return Object.fromEntries(names.map(name => [name, 1 as const]))
}

/**
 * Builds the upstream list query from a browser's query string; nothing of the browser's query is
 * forwarded as such. `limit` defaults to `limits.defaultListLimit` and may not exceed `limits.maxListLimit`.
 * @param model the declared model
 * @param query the raw query string object
 * @param limits gateway limits
 */
export function buildCockpitListQuery(model: CockpitModel, query: Record<string, unknown>, limits: GatewayConfig['limits']): CockpitListQuery {
  const parsed = listQuerySchema.safeParse(query)
  if (!parsed.success) invalid(toGatewayIssues(parsed.error))
  const input = parsed.data
  const result: CockpitListQuery = {
    limit: input.limit === undefined ? limits.defaultListLimit : Number(input.limit),
    skip: input.skip === undefined ? 0 : Number(input.skip),
  }
  if (result.limit! < 1 || result.limit! > limits.maxListLimit) invalid([issue(['limit'], `Between 1 and ${limits.maxListLimit}`)])
  if (input.filter !== undefined) result.filter = validateCockpitFilter(model, parseFilter(input.filter))
  if (input.sort !== undefined) {
    const sort: Record<string, 1 | -1> = {}
    for (const part of input.sort.split(',').map(s => s.trim()).filter(Boolean)) {
      const field = part.replace(/^-/, '')
      if (!model.sortable.includes(field)) invalid([issue(['sort'], 'Field not sortable')])
      sort[field] = part.startsWith('-') ? -1 : 1
    }
    if (!Object.keys(sort).length) invalid([issue(['sort'], 'Empty sort')])
    result.sort = sort
  }
  result.fields = parseCockpitFields(model, input.fields)
  if (input.locale) result.locale = input.locale
  return result
}
