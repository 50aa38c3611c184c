// IP addresses and CIDR ranges: parsing, canonical text, matching. No I/O, no config.

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

/** An address: 4 bytes (IPv4) or 16 (IPv6). */
export interface Ip { bytes: Uint8Array }
/** A range: its network bytes and prefix length. */
export interface Cidr { bytes: Uint8Array, prefix: number }

/** Whether `ip` lies inside one of the `trusted` ranges. */
export function isTrusted(ip: Ip, trusted: Cidr[]): boolean {
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

/** A CIDR (or a bare address, as /32 or /128), or null when it is not one. */
export function parseCidr(text: string): Cidr | null {
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

/** A range in canonical text form. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefix}`
}

/** Strips a port (`1.2.3.4:80`, `[v6]:80`) and brackets, then parses. */
export function parseAddress(value: string): Ip | null {
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

/** An address in canonical text form (IPv4 dotted quad, IPv6 RFC 5952). */
export function formatIp(ip: Ip): string {
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
