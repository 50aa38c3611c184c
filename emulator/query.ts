import { isPlainObject } from './json'

/** A stored document (content item, collection entry, user). */
export type Doc = Record<string, unknown>

/**
 * A query MongoLite would reject: an unknown `$operator`, a bad argument, an invalid regex.
 * Cockpit lets the exception escape, so the API answers its non-debug 500.
 */
export class QueryError extends Error {
  override name = 'QueryError'
}

/** What {@link runQuery} applies, in MongoLite's order: filter, sort, skip/limit, projection. */
export interface QueryOptions {
  filter?: Record<string, unknown>
  sort?: Record<string, unknown>
  fields?: Record<string, unknown>
  /** `0` or absent = no limit. */
  limit?: number
  /** Only applied together with a positive `limit` (SQLite's `OFFSET` needs a `LIMIT`). */
  skip?: number
}

const LOGICAL_OPERATORS = new Set(['$or', '$and'])

/**
 * Filters, sorts, pages and projects documents like Cockpit's MongoLite.
 * @throws QueryError for an operator MongoLite does not know
 */
export function runQuery(docs: readonly Doc[], options: QueryOptions = {}): Doc[] {
  let result = options.filter ? filterDocuments(docs, options.filter) : [...docs]
  if (options.sort && Object.keys(options.sort).length > 0) result = sortDocuments(result, options.sort)
  const limit = options.limit ?? 0
  if (limit > 0) {
    const skip = Math.max(0, options.skip ?? 0)
    result = result.slice(skip, skip + limit)
  }
  const fields = options.fields
  return fields && Object.keys(fields).length > 0 ? result.map(doc => projectDocument(doc, fields)) : result
}

/**
 * The documents matching a Mongo-style filter. The whole filter is checked first, so an unknown
 * operator fails even on an empty collection.
 * @throws QueryError
 */
export function filterDocuments(docs: readonly Doc[], filter: Record<string, unknown>): Doc[] {
  assertValidFilter(filter)
  return docs.filter(doc => matchesFilter(doc, filter))
}

/**
 * Whether one document matches the filter: implicit equality, `$eq $ne $gt $gte $lt $lte $in $nin
 * $exists $regex $preg $match $not $size $all $has $mod`, and `$or` / `$and` lists.
 * @throws QueryError
 */
export function matchesFilter(doc: Doc, filter: Record<string, unknown>): boolean {
  for (const [key, condition] of Object.entries(filter)) {
    if (LOGICAL_OPERATORS.has(key)) {
      const branches = requireFilterList(key, condition)
      const passes = key === '$or'
        ? branches.some(branch => matchesFilter(doc, branch))
        : branches.every(branch => matchesFilter(doc, branch))
      if (!passes) return false
      continue
    }
    if (key.startsWith('$')) throw new QueryError(`Unknown operator ${key}`)
    if (!matchesCondition(readPath(doc, key), condition)) return false
  }
  return true
}

/**
 * Walks the filter without documents and throws what evaluating it would throw.
 * @throws QueryError
 */
export function assertValidFilter(filter: Record<string, unknown>): void {
  for (const [key, condition] of Object.entries(filter)) {
    if (LOGICAL_OPERATORS.has(key)) {
      requireFilterList(key, condition).forEach(assertValidFilter)
      continue
    }
    if (key.startsWith('$')) throw new QueryError(`Unknown operator ${key}`)
    assertValidCondition(condition)
  }
}

function requireFilterList(operator: string, value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value) || !value.every(isPlainObject)) throw new QueryError(`${operator} needs a list of filters`)
  return value
}

/** An object whose keys are all `$operators`; a mix of operators and plain keys is an error. */
function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false
  const keys = Object.keys(value)
  const operators = keys.filter(key => key.startsWith('$'))
  if (operators.length > 0 && operators.length < keys.length) throw new QueryError('Operators mixed with fields')
  return operators.length > 0
}

function assertValidCondition(condition: unknown): void {
  if (!isOperatorObject(condition)) return
  for (const [operator, argument] of Object.entries(condition)) {
    // evaluating against `undefined` exercises every argument check without a document
    evaluateOperator(operator, argument, undefined)
  }
}

function matchesCondition(value: unknown, condition: unknown): boolean {
  if (!isOperatorObject(condition)) return matchesEquality(value, condition)
  return Object.entries(condition).every(([operator, argument]) => evaluateOperator(operator, argument, value))
}

function evaluateOperator(operator: string, argument: unknown, value: unknown): boolean {
  switch (operator) {
    case '$eq': return matchesEquality(value, argument)
    case '$ne': return !matchesEquality(value, argument)
    case '$gt': return compareScalars(value, argument, order => order > 0)
    case '$gte': return compareScalars(value, argument, order => order >= 0)
    case '$lt': return compareScalars(value, argument, order => order < 0)
    case '$lte': return compareScalars(value, argument, order => order <= 0)
    case '$in': return matchesAny(value, requireList(operator, argument))
    case '$nin': return !matchesAny(value, requireList(operator, argument))
    // MongoLite reads the value with isset(): a field holding null does not "exist"
    case '$exists': return argument ? value !== undefined && value !== null : value === undefined || value === null
    case '$regex':
    case '$preg':
    case '$match': return buildRegex(argument).test(toRegexSubject(value))
    case '$not':
      if (typeof argument === 'string') return !buildRegex(argument).test(toRegexSubject(value))
      if (isPlainObject(argument)) return !matchesCondition(value, argument)
      throw new QueryError('$not needs a pattern or a condition')
    case '$size': return Array.isArray(value) && value.length === Number(argument)
    case '$all': {
      const wanted = requireList(operator, argument)
      return Array.isArray(value) && wanted.every(item => value.some(entry => deepEqual(entry, item)))
    }
    case '$has': return Array.isArray(value) && value.some(entry => deepEqual(entry, argument))
    case '$mod': {
      const [divisor, remainder] = requireList(operator, argument).map(Number)
      if (!divisor) throw new QueryError('$mod needs [divisor, remainder]')
      return typeof value === 'number' && value % divisor === remainder
    }
    default: throw new QueryError(`Unknown operator ${operator}`)
  }
}

function requireList(operator: string, argument: unknown): unknown[] {
  if (!Array.isArray(argument)) throw new QueryError(`${operator} needs a list`)
  return argument
}

/** Equality with Mongo's array rule: `{tags: 'a'}` matches `tags: ['a', 'b']`. A missing field equals null. */
function matchesEquality(value: unknown, expected: unknown): boolean {
  const actual = value === undefined ? null : value
  if (deepEqual(actual, expected)) return true
  return Array.isArray(actual) && !Array.isArray(expected) && actual.some(entry => deepEqual(entry, expected))
}

function matchesAny(value: unknown, candidates: unknown[]): boolean {
  return candidates.some(candidate => matchesEquality(value, candidate))
}

/** Strict structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]))
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every(key => deepEqual(a[key], b[key]))
  }
  return false
}

/** Compares numbers with numbers (numeric strings count, like PHP), strings with strings; anything else never matches. */
function compareScalars(value: unknown, argument: unknown, accept: (order: number) => boolean): boolean {
  const left = toComparable(value)
  const right = toComparable(argument)
  if (left === undefined || right === undefined) return false
  if (typeof left === 'number' && typeof right === 'string' && isNumeric(right)) return accept(left - Number(right))
  if (typeof left === 'string' && typeof right === 'number' && isNumeric(left)) return accept(Number(left) - right)
  if (typeof left !== typeof right) return false
  if (typeof left === 'number') return accept(left - (right as number))
  return accept(left < (right as string) ? -1 : left > (right as string) ? 1 : 0)
}

function toComparable(value: unknown): number | string | undefined {
  if (typeof value === 'number' || typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 1 : 0
  return undefined
}

function isNumeric(text: string): boolean {
  return text.trim() !== '' && !Number.isNaN(Number(text))
}

function toRegexSubject(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return ''
}

/**
 * MongoLite's rule: a pattern starting with `/` is a full PCRE literal (`/^hello/i`), anything else
 * is wrapped as `/pattern/iu`, i.e. matched case-insensitively.
 */
function buildRegex(argument: unknown): RegExp {
  if (typeof argument !== 'string') throw new QueryError('$regex needs a string')
  try {
    const literal = /^\/(.*)\/([a-zA-Z]*)$/s.exec(argument)
    if (literal) {
      const flags = [...new Set(literal[2]!.split('').filter(flag => 'imsu'.includes(flag)))].join('')
      return new RegExp(literal[1]!, flags)
    }
    return new RegExp(argument, 'iu')
  }
  catch {
    throw new QueryError('Invalid regular expression')
  }
}

/** Reads `a.b.0` style paths; `undefined` when any step is missing. */
export function readPath(doc: unknown, path: string): unknown {
  let node: unknown = doc
  for (const segment of path.split('.')) {
    if (Array.isArray(node)) node = node[Number(segment)]
    else if (isPlainObject(node)) node = Object.hasOwn(node, segment) ? node[segment] : undefined
    else return undefined
  }
  return node
}

/**
 * Sorts by `{field: 1 | -1, …}` like SQLite orders MongoLite's JSON values:
 * null < numbers and booleans < strings (binary order) < objects. Stable.
 */
export function sortDocuments(docs: readonly Doc[], sort: Record<string, unknown>): Doc[] {
  const keys = Object.entries(sort).map(([field, direction]) => ({ field, sign: Number(direction) === -1 ? -1 : 1 }))
  return [...docs].sort((a, b) => {
    for (const { field, sign } of keys) {
      const order = compareForSort(readPath(a, field), readPath(b, field))
      if (order !== 0) return order * sign
    }
    return 0
  })
}

function sortRank(value: unknown): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'number' || typeof value === 'boolean') return 1
  if (typeof value === 'string') return 2
  return 3
}

function compareForSort(a: unknown, b: unknown): number {
  const rankA = sortRank(a)
  const rankB = sortRank(b)
  if (rankA !== rankB) return rankA - rankB
  if (rankA === 1) return Number(a) - Number(b)
  if (rankA === 2) return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0
  return 0
}

/**
 * Applies a projection. Any truthy non-`_id` key means inclusion: `_id` first (unless `_id: 0`),
 * then the included fields in document order. Otherwise the falsy keys are removed.
 */
export function projectDocument(doc: Doc, fields: Record<string, unknown>): Doc {
  const include = Object.entries(fields).filter(([key, flag]) => key !== '_id' && isIncluded(flag)).map(([key]) => key)
  const dropId = Object.hasOwn(fields, '_id') && !isIncluded(fields._id)
  const idOnly = include.length === 0 && Object.hasOwn(fields, '_id') && !dropId
  if (include.length > 0 || idOnly) {
    const projected: Doc = {}
    if (!dropId && Object.hasOwn(doc, '_id')) projected._id = doc._id
    for (const key of Object.keys(doc)) {
      if (include.includes(key)) projected[key] = doc[key]
    }
    return projected
  }
  const excluded = new Set(Object.entries(fields).filter(([, flag]) => !isIncluded(flag)).map(([key]) => key))
  return Object.fromEntries(Object.entries(doc).filter(([key]) => !excluded.has(key)))
}

function isIncluded(flag: unknown): boolean {
  return flag !== 0 && flag !== false && flag !== '0' && flag !== null
}

/**
 * Runs an aggregation pipeline: `$match`, `$sort`, `$skip`, `$limit`, `$project`, `$count`.
 * @throws QueryError for any other stage
 */
export function runPipeline(docs: readonly Doc[], pipeline: readonly unknown[]): Doc[] {
  let result = [...docs]
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) throw new QueryError('A stage has exactly one operator')
    const [[operator, argument]] = Object.entries(stage) as [[string, unknown]]
    if (operator === '$match' && isPlainObject(argument)) result = filterDocuments(result, argument)
    else if (operator === '$sort' && isPlainObject(argument)) result = sortDocuments(result, argument)
    else if (operator === '$skip') result = result.slice(Math.max(0, Number(argument) || 0))
    else if (operator === '$limit') result = result.slice(0, Math.max(0, Number(argument) || 0))
    else if (operator === '$project' && isPlainObject(argument)) result = result.map(doc => projectDocument(doc, argument))
    else if (operator === '$count' && typeof argument === 'string') result = [{ [argument]: result.length }]
    else throw new QueryError(`Unsupported stage ${operator}`)
  }
  return result
}
