import type { GatewayRoutePrefixes } from '../guards/gateway-paths'

/**
 * Whether a path is one of the gateway's HTML form routes, the only ones that accept an urlencoded body:
 * login, logout, logout-all, `{prefix}/form-posts/…` (which also require the session's form token), and the
 * public form submissions `{prefix}/forms/:name` (which require a signed submission token).
 * @param pathname the request path, without query
 * @param prefixes the route prefixes of this build
 */
export function isGatewayFormPath(pathname: string, { prefix, authPrefix }: GatewayRoutePrefixes): boolean {
  if (pathname === `${authPrefix}/login` || pathname === `${authPrefix}/logout` || pathname === `${authPrefix}/logout-all`) return true
  return pathname.startsWith(`${prefix}/form-posts/`) || pathname.startsWith(`${prefix}/forms/`)
}
