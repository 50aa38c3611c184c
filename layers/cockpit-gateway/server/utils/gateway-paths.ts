import type { H3Event } from 'h3'
import { useRuntimeConfig } from 'nitropack/runtime'

/** Where the gateway's routes live; set by the layer's module from `cockpitGateway.prefix` / `authPrefix`. */
export interface GatewayRoutePrefixes {
  /** Content routes. @default '/api/cockpit' */
  prefix: string
  /** Login and logout routes. @default '/api/auth' */
  authPrefix: string
}

/**
 * The route prefixes of this build.
 * @param event the request
 */
export function getGatewayRoutePrefixes(event?: H3Event): GatewayRoutePrefixes {
  const { prefix, authPrefix } = useRuntimeConfig(event).public.cockpitGateway as GatewayRoutePrefixes
  return { prefix, authPrefix }
}

/**
 * Whether a request path belongs to the gateway (its content and auth routes, and nuxt-auth-utils'
 * `/api/_auth`): errors there are JSON, and state-changing requests there are guarded.
 * @param event the request
 */
export function isGatewayPath(event: H3Event): boolean {
  const pathname = getGatewayPathname(event)
  const { prefix, authPrefix } = getGatewayRoutePrefixes(event)
  return [prefix, authPrefix, '/api/_auth'].some(base => pathname === base || pathname.startsWith(`${base}/`))
}

/**
 * The path of a request without its query string.
 * @param event the request
 */
export function getGatewayPathname(event: H3Event): string {
  return event.path.split('?', 1)[0]!
}
