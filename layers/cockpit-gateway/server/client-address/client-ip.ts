import type { H3Event } from 'h3'
import { getRequestHeader, getRequestIP } from 'h3'
import { formatIp, isTrusted, parseAddress, parseCidr } from './ip-address'
import type { Cidr } from './ip-address'
import type { TrustProxySetting } from './trust-proxy'

const UNKNOWN_CLIENT = 'unknown'

/**
 * The client's address as the rate limiter should key it, in canonical form (IPv4 dotted quad,
 * IPv4-mapped IPv6 as IPv4, other IPv6 as RFC 5952 lowercase compressed). Never the leftmost
 * `X-Forwarded-For` entry unless every hop to its right is trusted.
 *
 * Hop count `N` (as Express' `trust proxy: N`): the chain is the `X-Forwarded-For` entries left to
 * right followed by the socket address; the client is the entry `N` places left of the socket
 * (`N = 1`: the rightmost `X-Forwarded-For` entry). A chain shorter than that means the request
 * bypassed the proxies, so the socket address is used.
 *
 * CIDR list: starting at the socket address and walking `X-Forwarded-For` right to left, the first
 * address outside every trusted CIDR is the client; if all are trusted, the leftmost one. An entry
 * that is not an IP address stops the walk at the last trusted address, so garbage never becomes a key.
 *
 * Never throws: a missing or unparsable address gives `'unknown'`, an invalid setting counts as `false`.
 * @param event the request
 * @param trustProxy what {@link parseTrustProxy} returned
 * @default trustProxy false
 * @example const ip = getGatewayClientIp(event, parseTrustProxy(config.cockpitGateway.trustProxy))
 */
export function getGatewayClientIp(event: H3Event, trustProxy: TrustProxySetting = false): string {
  const ip = resolveClientIp(event, trustProxy)
  if (ip === UNKNOWN_CLIENT && !warnedUnknownClient && !import.meta.prerender) {
    // Bun, Deno, Workers and Netlify hand Nitro no socket address: every client would share one bucket.
    warnedUnknownClient = true
    console.warn('[cockpit-gateway] the client address is unknown on this runtime, so per-IP rate limits are shared by all clients: set NUXT_COCKPIT_GATEWAY_TRUST_PROXY to the platform client-address header or the proxy hop count')
  }
  return ip
}

let warnedUnknownClient = false

/** Where a request keeps its socket address for the internal requests it makes (see {@link getGatewaySocketAddress}). */
const SOCKET_ADDRESS_KEY = 'cockpitGatewaySocketAddress'

/**
 * The address of the peer of the request's socket, as text, or `undefined`. Nitro's internal requests (Nuxt's
 * data fetching while rendering a page on the server: `useFetch`, `useRequestFetch`) have no socket of their
 * own; they carry the context of the request that made them, whose address the startup plugin recorded
 * there, so they are keyed as that client and not as `'unknown'`. A client cannot set that context.
 * @param event the request
 */
export function getGatewaySocketAddress(event: H3Event): string | undefined {
  const own = getRequestIP(event, { xForwardedFor: false })
  if (own) return own
  const parent = (event.node?.req as { __unenv__?: Record<string, unknown> } | undefined)?.__unenv__
  const inherited = parent?.[SOCKET_ADDRESS_KEY]
  return typeof inherited === 'string' && inherited ? inherited : undefined
}

/**
 * Records the request's socket address in its context, where the internal requests it makes find it.
 * @param event the request
 */
export function recordGatewaySocketAddress(event: H3Event): void {
  const address = getGatewaySocketAddress(event)
  if (address) event.context[SOCKET_ADDRESS_KEY] = address
}

// Socket addresses repeat (keep-alive connections, a few proxies): each is parsed once. Bounded.
const socketAddresses = new Map<string, string>()

/** The socket peer in canonical form, or 'unknown'. */
function getSocketClient(raw: string): string {
  let canonical = socketAddresses.get(raw)
  if (canonical === undefined) {
    const ip = parseAddress(raw)
    canonical = ip ? formatIp(ip) : UNKNOWN_CLIENT
    if (socketAddresses.size >= 10_000) socketAddresses.clear()
    socketAddresses.set(raw, canonical)
  }
  return canonical
}

function resolveClientIp(event: H3Event, trustProxy: TrustProxySetting): string {
  const rawSocket = getGatewaySocketAddress(event) ?? ''
  const fallback = getSocketClient(rawSocket)
  if (trustProxy === false) return fallback
  const socket = fallback === UNKNOWN_CLIENT ? null : parseAddress(rawSocket)

  if (typeof trustProxy === 'string') {
    const fromHeader = parseAddress(getRequestHeader(event, trustProxy) ?? '')
    return fromHeader ? formatIp(fromHeader) : fallback
  }

  const forwarded = (getRequestHeader(event, 'x-forwarded-for') ?? '').split(',').map(s => s.trim()).filter(Boolean)

  if (typeof trustProxy === 'number' && Number.isInteger(trustProxy) && trustProxy > 0) {
    const index = forwarded.length - trustProxy
    if (index < 0) return fallback
    const client = parseAddress(forwarded[index]!)
    return client ? formatIp(client) : fallback
  }

  if (Array.isArray(trustProxy) && socket) {
    const trusted = trustProxy.map(parseCidr).filter((c): c is Cidr => c !== null)
    let last = socket
    if (!isTrusted(last, trusted)) return formatIp(last)
    for (let i = forwarded.length - 1; i >= 0; i--) {
      const hop = parseAddress(forwarded[i]!)
      if (!hop) break
      last = hop
      if (!isTrusted(hop, trusted)) break
    }
    return formatIp(last)
  }

  return fallback
}
