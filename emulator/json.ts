import JSON5 from 'json5'

/** Result of parsing a request parameter that Cockpit decodes with `json5_decode`. */
export type Json5Result = { ok: true, value: unknown } | { ok: false }

/**
 * Parses JSON or JSON5 (`{published:true}`) the way Cockpit v2 decodes `filter`, `sort`, `fields`.
 * Never throws.
 */
export function parseJson5(text: string): Json5Result {
  try {
    return { ok: true, value: JSON5.parse(text) }
  }
  catch {
    return { ok: false }
  }
}

/**
 * Encodes a value like PHP's `json_encode` with default flags: `/` is escaped as `\/`
 * (Cockpit answers `"<p>body<\/p>"`). Only strings can hold a `/`, so the swap is always safe.
 */
export function encodePhpJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/')
}

/** Whether a value is a plain JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
