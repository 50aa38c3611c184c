import { createError, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'

/** The gateway's routes and their methods: what the catch-alls compare against for 405 vs 404. */
const ROUTES: [RegExp, string[]][] = [
  [/^\/api\/cockpit\/items\/[^/]+$/, ['GET', 'POST']],
  [/^\/api\/cockpit\/items\/[^/]+\/[^/]+$/, ['GET', 'PATCH', 'DELETE']],
  [/^\/api\/cockpit\/webhook$/, ['POST']],
  [/^\/api\/auth\/(login|logout|logout-all)$/, ['POST']],
  [/^\/api\/auth\/oidc$/, ['GET']],
]

/**
 * For a request no route took: 405 `METHOD_NOT_ALLOWED` (with `Allow`) when the path exists with other
 * methods, else 404 `NOT_FOUND`, always as JSON (never the app's HTML).
 * @param event the request
 */
export function sendGatewayRouteMiss(event: H3Event): never {
  const pathname = event.path.split('?', 1)[0]!.replace(/\/+$/, '')
  const route = ROUTES.find(([pattern]) => pattern.test(pathname))
  if (route) {
    setResponseHeader(event, 'allow', route[1].join(', '))
    throw createError({ statusCode: 405, statusMessage: 'Method not allowed', data: { code: 'METHOD_NOT_ALLOWED' } })
  }
  throw createError({ statusCode: 404, statusMessage: 'Not found', data: { code: 'NOT_FOUND' } })
}
