import type { H3Event } from 'h3'
import { useRuntimeConfig } from 'nitropack/runtime'

/** Where the gateway's routes live; set by the layer's module from `cockpitGateway.prefix` / `authPrefix`. */
export interface GatewayRoutePrefixes {
  /** Content routes. @default '/api/cockpit' */
  prefix: string
  /** Login and logout routes. @default '/api/auth' */
  authPrefix: string
}

let prefixes: GatewayRoutePrefixes | undefined
let gatewayBases: string[] | undefined

/**
 * The route prefixes of this build. They are build-time options (the routes are registered under them),
 * so they are read once from the shared config, never cloned per request.
 * @param _event the request (unused: kept for callers that pass it)
 */
export function getGatewayRoutePrefixes(_event?: H3Event): GatewayRoutePrefixes {
  if (!prefixes) {
    const { prefix, authPrefix } = useRuntimeConfig().public.cockpitGateway as GatewayRoutePrefixes
    prefixes = Object.freeze({ prefix, authPrefix })
  }
  return prefixes
}

/**
 * Whether a request path belongs to the gateway (its content and auth routes, and nuxt-auth-utils'
 * `/api/_auth`): errors there are JSON, and state-changing requests there are guarded.
 * @param event the request
 */
export function isGatewayPath(event: H3Event): boolean {
  const pathname = getGatewayPathname(event)
  if (!gatewayBases) {
    const { prefix, authPrefix } = getGatewayRoutePrefixes()
    gatewayBases = [prefix, authPrefix, '/api/_auth']
  }
  for (const base of gatewayBases) {
    if (pathname.startsWith(base) && (pathname.length === base.length || pathname.charCodeAt(base.length) === 47 /* / */)) return true
  }
  return false
}

/**
 * The path of a request without its query string.
 * @param event the request
 */
export function getGatewayPathname(event: H3Event): string {
  const path = event.path
  const query = path.indexOf('?')
  return query === -1 ? path : path.slice(0, query)
}
