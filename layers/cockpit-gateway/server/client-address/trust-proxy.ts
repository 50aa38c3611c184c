import { formatCidr, parseCidr } from './ip-address'

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
