/** Path prefixes the gateway owns: errors there are JSON, and state-changing requests there are guarded. */
export const GATEWAY_PATH_PREFIXES = ['/api/cockpit', '/api/auth', '/api/_auth'] as const

/**
 * Whether a request path belongs to the gateway.
 * @param path `event.path` (may carry a query string)
 */
export function isGatewayPath(path: string): boolean {
  const pathname = path.split('?', 1)[0]!
  return GATEWAY_PATH_PREFIXES.some(prefix => pathname === prefix || pathname.startsWith(`${prefix}/`))
}
