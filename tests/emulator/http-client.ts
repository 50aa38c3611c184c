/** A fetched answer with the body already read, for exact assertions. */
export interface Answer {
  status: number
  statusText: string
  /** The raw body, byte for byte. */
  text: string
  contentType: string | null
  headers: Headers
  /** The body parsed as JSON (throws when it is not JSON). */
  json: <T = any>() => T
}

/** Options of {@link call}: fetch's, plus a JSON body and a form body shortcut. */
export interface CallOptions extends Omit<RequestInit, 'body'> {
  /** Sent as `application/json`. */
  json?: unknown
  /** Sent as `application/x-www-form-urlencoded` (keys may use PHP bracket syntax). */
  form?: Record<string, string>
  /** Sent as is (set `content-type` yourself). */
  body?: string
}

/**
 * Fetches `base + path` without following redirects and reads the whole answer.
 * @example const answer = await call(emulator.url, '/api/system/healthcheck')
 */
export async function call(base: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const { json, form, body, headers, ...init } = options
  const sendHeaders = new Headers(headers)
  let payload: string | undefined = body
  if (json !== undefined) {
    payload = JSON.stringify(json)
    if (!sendHeaders.has('content-type')) sendHeaders.set('content-type', 'application/json')
  }
  if (form !== undefined) {
    payload = new URLSearchParams(form).toString()
    sendHeaders.set('content-type', 'application/x-www-form-urlencoded')
  }
  const method = init.method ?? (payload === undefined ? 'GET' : 'POST')
  const response = await fetch(base + path, { ...init, method, headers: sendHeaders, body: payload, redirect: 'manual' })
  const text = await response.text()
  return {
    status: response.status,
    statusText: response.statusText,
    text,
    contentType: response.headers.get('content-type'),
    headers: response.headers,
    json: () => JSON.parse(text),
  }
}

/** `?a=1&b=…` with each value URL-encoded (JSON objects included). */
export function qs(params: Record<string, string | number>): string {
  return `?${new URLSearchParams(Object.entries(params).map(([key, value]) => [key, String(value)])).toString()}`
}

/** 24 lower-case hex characters: a MongoLite id. */
export const OBJECT_ID = /^[0-9a-f]{24}$/
