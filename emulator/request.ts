import type { IncomingMessage } from 'node:http'
import type { H3Event } from 'h3'
import type { Params } from './params'
import { parseBodyParams, parsePhpQuery } from './params'

/** Bodies are read once, before h3 runs (the recorder needs them too), and kept here per request. */
const bufferedBodies = new WeakMap<IncomingMessage, string>()

/** Keeps the already-read body of `req` for the handlers. */
export function rememberRequestBody(req: IncomingMessage, body: string): void {
  bufferedBodies.set(req, body)
}

/** One API call, parsed the way PHP would see it. */
export interface ApiRequest {
  event: H3Event
  method: string
  /** Decoded path without the query string, e.g. `/api/content/items/posts`. */
  path: string
  /** Query string parameters with bracket syntax resolved. */
  query: Params
  /** Body parameters (JSON or form). */
  body: Params
  /** Query and body merged, the body winning, like `array_merge($_GET, $body)`. */
  params: Params
  /** The body was sent as JSON but is not a JSON object. */
  bodyMalformed: boolean
  rawBody: string
}

/** Builds the {@link ApiRequest} for an h3 event. */
export function readApiRequest(event: H3Event): ApiRequest {
  const req = event.node.req
  const url = new URL(req.url ?? '/', 'http://emulator.invalid')
  const rawBody = bufferedBodies.get(req) ?? ''
  const query = parsePhpQuery(url.search)
  const { params: body, malformed } = parseBodyParams(rawBody, String(req.headers['content-type'] ?? ''))
  let path = url.pathname
  try {
    path = decodeURIComponent(url.pathname)
  }
  catch { /* keep the raw path, as PHP would for a broken escape */ }
  return {
    event,
    method: (req.method ?? 'GET').toUpperCase(),
    path,
    query,
    body,
    params: { ...query, ...body },
    bodyMalformed: malformed,
    rawBody,
  }
}

/** The value of a request header, arrays joined, or `undefined`. */
export function getHeaderValue(request: ApiRequest, name: string): string | undefined {
  const value = request.event.node.req.headers[name.toLowerCase()]
  return Array.isArray(value) ? value.join(', ') : value
}

/** The token of `Authorization: Bearer <token>` (matched like Cockpit's `getBearerToken`). */
export function getBearerToken(request: ApiRequest): string | undefined {
  const header = getHeaderValue(request, 'authorization')
  return header ? /Bearer\s(\S+)/.exec(header)?.[1] : undefined
}

/** Splits `/api/a/b/c` into `['a', 'b', 'c']` (empty segments dropped). */
export function getApiSegments(path: string): string[] {
  return path.replace(/^\/api\/?/, '').split('/').filter(Boolean)
}
