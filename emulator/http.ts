import type { H3Event } from 'h3'
import { send, setResponseHeader, setResponseStatus } from 'h3'
import { encodePhpJson } from './json'

/** What Lime sends for its own HTML answers (empty 404s, `Precondition Failed`): no space before `charset`. */
export const LIME_HTML = 'text/html;charset=UTF-8'
/** What PHP's error path sends for the non-debug 500: with a space. */
export const PHP_HTML = 'text/html; charset=UTF-8'
/** Content type of every JSON answer in the contract's tables. */
export const JSON_TYPE = 'application/json'

/** Body of the non-debug PHP exception page, byte for byte. */
export const SYSTEM_ERROR_BODY = '{"error": "500", "message": "system error"}'

/**
 * Sends `body` exactly as given, with that status and content type.
 * @param reason optional status line text (Cockpit's preflight says `200 OK CORS`)
 */
export function sendExact(event: H3Event, status: number, body: string, contentType: string, reason?: string): Promise<void> {
  setResponseStatus(event, status, reason)
  setResponseHeader(event, 'content-type', contentType)
  return send(event, body)
}

/** Sends a value encoded like PHP's `json_encode`, as `application/json`. */
export function sendJson(event: H3Event, status: number, value: unknown): Promise<void> {
  return sendExact(event, status, encodePhpJson(value), JSON_TYPE)
}

/** Lime's "not found": 404, empty body, `text/html;charset=UTF-8`. */
export function sendEmptyNotFound(event: H3Event): Promise<void> {
  return sendExact(event, 404, '', LIME_HTML)
}

/** The non-debug PHP exception answer: 500 `{"error": "500", "message": "system error"}` as HTML. */
export function sendSystemError(event: H3Event): Promise<void> {
  return sendExact(event, 500, SYSTEM_ERROR_BODY, PHP_HTML)
}

/**
 * Adds the CORS headers Cockpit puts on every `/api/*` answer.
 * @param allowHeaders the version's `Access-Control-Allow-Headers` list
 */
export function setCockpitCorsHeaders(event: H3Event, allowHeaders: string): void {
  setResponseHeader(event, 'access-control-allow-origin', '*')
  setResponseHeader(event, 'access-control-allow-credentials', 'true')
  setResponseHeader(event, 'access-control-max-age', 1000)
  setResponseHeader(event, 'access-control-allow-headers', allowHeaders)
  setResponseHeader(event, 'access-control-allow-methods', 'PUT, POST, GET, OPTIONS, DELETE')
}
