import type { H3Event } from 'h3'
import { getRequestHeader, getRequestIP } from 'h3'

/**
 * Which proxies the gateway believes about the client's address:
 * - `false`: none; the socket's peer is the client.
 * - a hop count `N`: exactly N reverse proxies stand in front, each appending its peer to
 *   `X-Forwarded-For`; the client is N hops to the left of the socket address.
 * - a list of CIDRs (IPv4 and IPv6): proxies inside them are skipped, right to left.
 * - a platform header (`'cf-connecting-ip'` on Cloudflare, `'x-real-ip'` on Vercel or behind nginx,
 *   `'x-nf-client-connection-ip'` on Netlify): the platform sets it and strips it from clients; only
 *   safe when the app cannot be reached except through that platform.
 */
export type TrustProxySetting = false | number | string[] | PlatformClientHeader

const PLATFORM_HEADERS = ['cf-connecting-ip', 'x-real-ip', 'x-nf-client-connection-ip'] as const

/** A header a hosting platform sets to the client's address. */
export type PlatformClientHeader = (typeof PLATFORM_HEADERS)[number]
/** Generous: more hops than any real deployment, small enough to catch a typo. */
const MAX_TRUSTED_HOPS = 32
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

/**
 * Validates a `trustProxy` setting as Nuxt hands it over from `NUXT_*` env vars (already passed
 * through destr) or from config, and returns it in canonical form. Call it once at startup.
 *
 * Accepts `false`, `'false'`, `''`, `0`, `undefined` (→ `false`); a hop count (`1`, `'2'`); CIDRs as
 * an array or a comma-separated string (`'10.0.0.0/8, fd00::/8'`, a bare address meaning /32 or
 * /128); `'cf-connecting-ip'`, `'x-real-ip'`, `'x-nf-client-connection-ip'`. `true` is refused: it would trust a spoofable header.
 * @param value the raw setting
 * @throws TypeError naming what is wrong, on anything else
 */
export function parseTrustProxy(value: unknown): TrustProxySetting {
  if (value === undefined || value === null || value === false) return false
  if (value === true) throw new TypeError(`${TRUST_PROXY_ERROR}; true would trust the leftmost X-Forwarded-For entry, which any client can forge`)
  if (typeof value === 'number') return parseHopCount(value)
  if (Array.isArray(value)) return parseCidrList(value)
  if (typeof value !== 'string') throw new TypeError(`${TRUST_PROXY_ERROR}, got a value of type ${typeof value}`)

  const text = value.trim()
  const lower = text.toLowerCase()
  if (lower === '' || lower === 'false') return false
  if (lower === 'true') return parseTrustProxy(true)
  if (/^\d+$/.test(text)) return parseHopCount(Number(text))
  if ((PLATFORM_HEADERS as readonly string[]).includes(lower)) return lower as TrustProxySetting
  if (text.startsWith('[')) {
    let list: unknown
    try {
      list = JSON.parse(text)
    }
    catch {
      throw new TypeError(`${TRUST_PROXY_ERROR}; the JSON list does not parse`)
    }
    return parseTrustProxy(Array.isArray(list) ? list : {})
  }
  return parseCidrList(text.split(','))
}

const TRUST_PROXY_ERROR = 'Invalid trustProxy setting: expected false, a hop count, trusted proxy CIDRs, "cf-connecting-ip", "x-real-ip" or "x-nf-client-connection-ip"'

function parseHopCount(value: number): TrustProxySetting {
  if (!Number.isInteger(value) || value < 0 || value > MAX_TRUSTED_HOPS) {
    throw new TypeError(`${TRUST_PROXY_ERROR}; a hop count must be an integer from 0 to ${MAX_TRUSTED_HOPS}`)
  }
  return value === 0 ? false : value
}

function parseCidrList(values: unknown[]): TrustProxySetting {
  const cidrs = values.map((v) => {
    if (typeof v !== 'string') throw new TypeError(`${TRUST_PROXY_ERROR}; CIDR entries must be strings`)
    return v.trim()
  }).filter(Boolean)
  const parsed = cidrs.map((text) => {
    const cidr = parseCidr(text)
    if (!cidr) throw new TypeError(`${TRUST_PROXY_ERROR}; "${text}" is not an IPv4 or IPv6 CIDR`)
    return formatCidr(cidr)
  })
  return parsed.length ? parsed : false
}

/**
 * An address in canonical form (see {@link getGatewayClientIp}), or null when it is not an IP address.
 * Accepts a port (`1.2.3.4:80`, `[::1]:80`) and an IPv6 zone (`fe80::1%eth0`), both dropped.
 * @param value text from a socket or header
 */
export function normalizeClientIp(value: string): string | null {
  const ip = parseAddress(value)
  return ip ? formatIp(ip) : null
}

/**
 * Whether `ip` lies inside `cidr` (IPv4 or IPv6; an IPv4-mapped IPv6 address counts as its IPv4).
 * Never throws: an unparsable address or CIDR gives false.
 * @param ip address, e.g. `10.1.2.3` or `::ffff:10.1.2.3`
 * @param cidr range, e.g. `10.0.0.0/8`, `2001:db8::/32`, or a bare address
 */
export function isIpInCidr(ip: string, cidr: string): boolean {
  const address = parseAddress(ip)
  const range = parseCidr(cidr)
  return !!address && !!range && cidrContains(range, address)
}

// ---------------------------------------------------------------------------------------------
// Parsing and matching, IPv4 as 4 bytes, IPv6 as 16.

interface Ip { bytes: Uint8Array }
interface Cidr { bytes: Uint8Array, prefix: number }

function isTrusted(ip: Ip, trusted: Cidr[]): boolean {
  return trusted.some(cidr => cidrContains(cidr, ip))
}

function cidrContains(cidr: Cidr, ip: Ip): boolean {
  if (cidr.bytes.length !== ip.bytes.length) return false
  const full = cidr.prefix >> 3
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false
  const rest = cidr.prefix & 7
  if (rest === 0) return true
  const mask = (0xFF << (8 - rest)) & 0xFF
  return (cidr.bytes[full]! & mask) === (ip.bytes[full]! & mask)
}

function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/')
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash), true)
  if (!ip) return null
  const bits = ip.bytes.length * 8
  let prefix = bits
  if (slash !== -1) {
    const p = text.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p)) return null
    prefix = Number(p)
    if (ip.mappedFrom6) prefix -= 96 // ::ffff:10.0.0.0/104 is 10.0.0.0/8
    if (prefix < 0 || prefix > bits) return null
  }
  // Host bits are cleared so that formatCidr prints the network.
  const bytes = Uint8Array.from(ip.bytes, (b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8))
    return b & ((0xFF << (8 - keep)) & 0xFF)
  })
  return { bytes, prefix }
}

function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefix}`
}

/** Strips a port (`1.2.3.4:80`, `[v6]:80`) and brackets, then parses. */
function parseAddress(value: string): Ip | null {
  let text = value.trim()
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text)
  if (bracketed) text = bracketed[1]!
  else if (/^[\d.]+:\d{1,5}$/.test(text)) text = text.slice(0, text.indexOf(':'))
  return parseIp(text, false)
}

function parseIp(text: string, keepMappedFlag: boolean): (Ip & { mappedFrom6?: boolean }) | null {
  const v4 = parseIpv4(text)
  if (v4) return { bytes: v4 }
  const v6 = parseIpv6(text)
  if (!v6) return null
  // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 peer of a dual-stack socket: key and match it as IPv4.
  if (v6.slice(0, 10).every(b => b === 0) && v6[10] === 0xFF && v6[11] === 0xFF) {
    return keepMappedFlag ? { bytes: v6.slice(12), mappedFrom6: true } : { bytes: v6.slice(12) }
  }
  return { bytes: v6 }
}

function parseIpv4(text: string): Uint8Array | null {
  // No leading zeros: `010` is octal to some parsers and decimal to others.
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(text)
  if (!m) return null
  const parts = m.slice(1).map(Number)
  return parts.every(n => n <= 255) ? Uint8Array.from(parts) : null
}

function parseIpv6(input: string): Uint8Array | null {
  const text = input.replace(/%[\w.~-]+$/, '') // zone id
  if (!/^[\da-f:.]+$/i.test(text) || text.length > 45) return null
  const halves = text.split('::')
  if (halves.length > 2) return null
  const groups = (half: string): number[] | null => {
    if (half === '') return []
    const out: number[] = []
    const parts = half.split(':')
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part)
        if (!v4) return null
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      }
      else if (/^[\da-f]{1,4}$/i.test(part)) out.push(Number.parseInt(part, 16))
      else return null
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !tail) return null
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0]!.includes('.')) return null
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail]
  const bytes = new Uint8Array(16)
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8
    bytes[i * 2 + 1] = g & 0xFF
  })
  return bytes
}

function formatIp(ip: Ip): string {
  if (ip.bytes.length === 4) return ip.bytes.join('.')
  const groups = Array.from({ length: 8 }, (_, i) => (ip.bytes[i * 2]! << 8) | ip.bytes[i * 2 + 1]!)
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = groups.map(g => g.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}
