import { createError, getRequestHeader, readRawBody } from 'h3'
import type { H3Event } from 'h3'
import type { z } from 'zod'
import { useGatewayConfig } from '../config/gateway-config'

/** Keys that would reach an object's prototype machinery: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/** One field problem, as clients receive it in `data.issues`. */
export interface GatewayIssue {
  path: (string | number)[]
  code: string
  message: string
}

/**
 * Maps zod issues to the public issue shape (no input values echoed back).
 * @param error a zod error
 */
export function toGatewayIssues(error: z.ZodError): GatewayIssue[] {
  return error.issues.map(issue => ({ path: issue.path.map(p => typeof p === 'symbol' ? String(p) : p), code: issue.code, message: issue.message }))
}

function badBody(statusCode: number, statusMessage: string, code: string, issues?: GatewayIssue[]): never {
  throw createError({ statusCode, statusMessage, data: issues ? { code, issues } : { code } })
}

/** What a request body is, by its content type: JSON (`application/json`, `*+json`), an urlencoded form, or anything else. */
export type GatewayBodyKind = 'json' | 'form' | 'other'

/**
 * The kind of the request's body, from its `Content-Type` (parameters and case ignored). One reading for
 * the CSRF guard, the body reader and the login route's choice between JSON and redirects.
 * @param event the request
 */
export function getGatewayBodyKind(event: H3Event): GatewayBodyKind {
  const contentType = (getRequestHeader(event, 'content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase()
  if (contentType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(contentType)) return 'json'
  return contentType === 'application/x-www-form-urlencoded' ? 'form' : 'other'
}

/** How a body may be sent to a route. */
export interface ReadGatewayBodyOptions {
  /** Also accept `application/x-www-form-urlencoded` (HTML form posts). @default false */
  form?: boolean
  /** Status of a schema failure. @default 400 */
  invalidStatus?: 400 | 422
  /** Largest body, bytes. @default `limits.bodySize` */
  maxBytes?: number
}

/**
 * Reads, size-checks, parses and validates a request body: 413 over `limits.bodySize` (or `maxBytes`), 415 for any other
 * content type, 400 for malformed JSON or a `__proto__`/`constructor`/`prototype` key, and 400/422
 * `VALIDATION_FAILED` with the field issues when the schema refuses it.
 * @param event the request
 * @param schema the one schema of this input
 * @param options accepted encodings and failure status
 */
export async function readGatewayBody<S extends z.ZodType>(event: H3Event, schema: S, options: ReadGatewayBodyOptions = {}): Promise<{ data: z.infer<S>, form: boolean }> {
  const maxBytes = options.maxBytes ?? useGatewayConfig(event).limits.bodySize
  const kind = getGatewayBodyKind(event)
  const isJson = kind === 'json'
  const isForm = options.form === true && kind === 'form'
  if (!isJson && !isForm) badBody(415, 'Unsupported media type', 'UNSUPPORTED_MEDIA_TYPE')
  const declared = Number(getRequestHeader(event, 'content-length') ?? 0)
  if (declared > maxBytes) badBody(413, 'Payload too large', 'PAYLOAD_TOO_LARGE')
  const raw = await readCappedBody(event, maxBytes)
  const value = isJson ? parseJsonBody(raw) : parseFormBody(raw)
  const result = schema.safeParse(value)
  if (!result.success) badBody(options.invalidStatus ?? 400, 'Validation failed', 'VALIDATION_FAILED', toGatewayIssues(result.error))
  return { data: result.data, form: isForm }
}

/**
 * Reads the body and stops at `limit` bytes. On Node the request stream is counted as it arrives and
 * dropped past the limit (Node discards the rest), so a chunked body without a length is never buffered
 * whole; runtimes that hand over an already-read body (Workers, Deno, Bun) are checked after the fact.
 */
async function readCappedBody(event: H3Event, limit: number): Promise<string> {
  const req = event.node?.req as unknown as (NodeJS.ReadableStream & Record<PropertyKey, unknown>) | undefined
  const buffered = !req || typeof req.on !== 'function' || Symbol.for('h3RawBody') in req || 'rawBody' in req || 'body' in req || '__unenv__' in req || !!event.web?.request?.body
  const bytes = buffered ? toBytes(await readRawBody(event, false)) : await readNodeStream(req, limit)
  if (bytes.byteLength > limit) badBody(413, 'Payload too large', 'PAYLOAD_TOO_LARGE')
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  }
  catch {
    badBody(400, 'Body is not UTF-8', 'INVALID_BODY')
  }
}

function toBytes(body: unknown): Uint8Array {
  if (body === undefined || body === null) return new Uint8Array()
  if (typeof body === 'string') return new TextEncoder().encode(body)
  return body as Uint8Array
}

function readNodeStream(req: NodeJS.ReadableStream, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = []
    let size = 0
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (chunk: Uint8Array | string) => {
      const bytes = toBytes(chunk)
      size += bytes.byteLength
      if (size > limit) {
        cleanup()
        // Keep the stream flowing with no listener: the rest is discarded, not buffered.
        req.resume()
        reject(createError({ statusCode: 413, statusMessage: 'Payload too large', data: { code: 'PAYLOAD_TOO_LARGE' } }))
        return
      }
      chunks.push(bytes)
    }
    const onEnd = () => {
      cleanup()
      const body = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        body.set(chunk, offset)
        offset += chunk.byteLength
      }
      resolve(body)
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

/**
 * Parses JSON from a browser, refusing `__proto__`, `constructor` and `prototype` keys at any depth.
 * @param raw the JSON text
 */
export function parseGatewayJson(raw: string): { ok: true, value: unknown } | { ok: false, reason: 'malformed' | 'forbidden-key' } {
  let forbidden = false
  let value: unknown
  try {
    value = JSON.parse(raw, (key, v) => {
      if (FORBIDDEN_KEYS.has(key)) forbidden = true
      return v
    })
  }
  catch {
    return { ok: false, reason: 'malformed' }
  }
  return forbidden ? { ok: false, reason: 'forbidden-key' } : { ok: true, value }
}

function parseJsonBody(raw: string): unknown {
  const parsed = parseGatewayJson(raw)
  if (parsed.ok) return parsed.value
  return parsed.reason === 'malformed' ? badBody(400, 'Malformed JSON', 'INVALID_JSON') : badBody(400, 'Forbidden key', 'FORBIDDEN_KEY')
}

function parseFormBody(raw: string): Record<string, string> {
  const result: Record<string, string> = Object.create(null)
  for (const [key, value] of new URLSearchParams(raw)) {
    if (FORBIDDEN_KEYS.has(key)) badBody(400, 'Forbidden key', 'FORBIDDEN_KEY')
    if (key in result) badBody(400, 'Duplicate field', 'DUPLICATE_FIELD')
    result[key] = value
  }
  return { ...result }
}
