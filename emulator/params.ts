import { isPlainObject } from './json'

/** Request parameters as PHP sees them: strings, nested through bracket syntax, or JSON values. */
export type Params = Record<string, unknown>

type Container = Record<string, unknown> | unknown[]

/** Keys that would reach `Object.prototype` if assigned; PHP has no such thing, so they are dropped. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Parses a query string or a form body with PHP's bracket syntax:
 * `filter[published]=true&fields[title]=1` → `{ filter: { published: 'true' }, fields: { title: '1' } }`,
 * and `a[]=1&a[]=2` → `{ a: ['1', '2'] }`. Values stay strings, as in `$_GET`.
 */
export function parsePhpQuery(search: string): Params {
  const result: Params = {}
  for (const [rawKey, value] of new URLSearchParams(search)) {
    const path = splitBracketKey(rawKey)
    if (path.some(segment => UNSAFE_KEYS.has(segment))) continue
    assignPath(result, path, value)
  }
  return result
}

/** `a[b][]` → `['a', 'b', '']`; a key without brackets is one segment. */
function splitBracketKey(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^\]]*\])+)$/.exec(key)
  if (!match) return [key]
  const brackets = [...match[2]!.matchAll(/\[([^\]]*)\]/g)].map(m => m[1]!)
  return [match[1]!, ...brackets]
}

function assignPath(container: Container, path: string[], value: string): void {
  const [head, ...rest] = path as [string, ...string[]]
  if (rest.length === 0) {
    writeSlot(container, head, value)
    return
  }
  // `[]` opens a list, any other segment an object
  const fresh = (): Container => (rest[0] === '' ? [] : {})
  let child = head === '' ? undefined : readSlot(container, head)
  if (!Array.isArray(child) && !isPlainObject(child)) {
    child = fresh()
    writeSlot(container, head, child)
  }
  assignPath(child as Container, rest, value)
}

function readSlot(container: Container, key: string): unknown {
  return Array.isArray(container) ? container[Number(key)] : container[key]
}

function writeSlot(container: Container, key: string, value: unknown): void {
  if (Array.isArray(container)) {
    if (key === '') container.push(value)
    else container[Number(key)] = value
  }
  else {
    container[key === '' ? String(Object.keys(container).length) : key] = value
  }
}

/** The parameters carried by a request body, and whether the body was meant as JSON but did not parse. */
export interface BodyParams {
  params: Params
  malformed: boolean
}

/**
 * Reads body parameters like PHP + Lime: JSON objects for `application/json`, bracket syntax for
 * `application/x-www-form-urlencoded`, nothing for any other content type.
 */
export function parseBodyParams(raw: string, contentType: string): BodyParams {
  const type = contentType.toLowerCase()
  if (type.includes('application/json')) {
    if (raw.trim() === '') return { params: {}, malformed: false }
    try {
      const parsed: unknown = JSON.parse(raw)
      return isPlainObject(parsed) ? { params: parsed, malformed: false } : { params: {}, malformed: true }
    }
    catch {
      return { params: {}, malformed: true }
    }
  }
  if (type.includes('application/x-www-form-urlencoded')) return { params: parsePhpQuery(raw), malformed: false }
  return { params: {}, malformed: false }
}

/** PHP truthiness: `''`, `'0'`, `0`, `false`, `null`, `[]` and `{}` are false. */
export function isPhpTruthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '' || value === '0') return false
  if (Array.isArray(value)) return value.length > 0
  if (isPlainObject(value)) return Object.keys(value).length > 0
  return true
}

/** PHP `intval`: leading digits of a string (`'2abc'` → 2), anything unparsable → 0. */
export function phpIntval(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'string') {
    const parsed = Number.parseInt(value.trim(), 10)
    return Number.isNaN(parsed) ? 0 : parsed
  }
  return 0
}
