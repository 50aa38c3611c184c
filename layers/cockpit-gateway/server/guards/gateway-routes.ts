import { createError, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import { getGatewayPathname, getGatewayRoutePrefixes } from './gateway-paths'

function escape(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/**
 * For a request no route took: 405 `METHOD_NOT_ALLOWED` (with `Allow`) when the path exists with other
 * methods, else 404 `NOT_FOUND`, always as JSON (never the app's HTML).
 * @param event the request
 */
export function sendGatewayRouteMiss(event: H3Event): never {
  const { prefix, authPrefix } = getGatewayRoutePrefixes(event)
  const routes: [RegExp, string[]][] = [
    [new RegExp(`^${escape(prefix)}/items/[^/]+$`), ['GET', 'POST']],
    [new RegExp(`^${escape(prefix)}/items/[^/]+/[^/]+$`), ['GET', 'PATCH', 'DELETE']],
    [new RegExp(`^${escape(prefix)}/webhook$`), ['POST']],
    [new RegExp(`^${escape(prefix)}/singletons/[^/]+$`), ['GET', 'PATCH']],
    [new RegExp(`^${escape(prefix)}/(images|assets)/[^/]+$`), ['GET']],
    [new RegExp(`^${escape(prefix)}/assets$`), ['POST']],
    [new RegExp(`^${escape(prefix)}/form-posts/[^/]+/create$`), ['POST']],
    [new RegExp(`^${escape(prefix)}/form-posts/[^/]+/[^/]+/(update|delete)$`), ['POST']],
    [new RegExp(`^${escape(prefix)}/forms/[^/]+$`), ['POST']],
    [new RegExp(`^${escape(prefix)}/forms/[^/]+/token$`), ['GET']],
    [new RegExp(`^${escape(prefix)}/health/(live|ready)$`), ['GET']],
    [new RegExp(`^${escape(authPrefix)}/(login|logout|logout-all)$`), ['POST']],
    [new RegExp(`^${escape(authPrefix)}/oidc$`), ['GET']],
  ]
  const pathname = getGatewayPathname(event).replace(/\/+$/, '')
  const route = routes.find(([pattern]) => pattern.test(pathname))
  if (route) {
    setResponseHeader(event, 'allow', route[1].join(', '))
    throw createError({ statusCode: 405, statusMessage: 'Method not allowed', data: { code: 'METHOD_NOT_ALLOWED' } })
  }
  throw createError({ statusCode: 404, statusMessage: 'Not found', data: { code: 'NOT_FOUND' } })
}
