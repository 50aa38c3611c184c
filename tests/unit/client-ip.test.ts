import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http'
import { BlockList, Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { createApp, createEvent, defineEventHandler, toNodeListener } from 'h3'
import { getGatewayClientIp } from '../../layers/cockpit-gateway/server/client-address/client-ip'
import { isIpInCidr, normalizeClientIp } from '../../layers/cockpit-gateway/server/client-address/ip-address'
import { parseTrustProxy, type TrustProxySetting } from '../../layers/cockpit-gateway/server/client-address/trust-proxy'

/** An h3 event as a Node server would build it, from a socket peer and request headers. */
function requestEvent(remoteAddress: string | undefined, headers: Record<string, string> = {}) {
  const socket = new Socket()
  Object.defineProperty(socket, 'remoteAddress', { value: remoteAddress })
  const req = new IncomingMessage(socket)
  req.headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  return createEvent(req, new ServerResponse(req))
}

const ip = (trustProxy: TrustProxySetting, remoteAddress: string | undefined, headers: Record<string, string> = {}) =>
  getGatewayClientIp(requestEvent(remoteAddress, headers), trustProxy)

const SPOOFS = ['1.1.1.1', '8.8.8.8, 9.9.9.9', 'garbage', '2001:db8::dead', '::ffff:127.0.0.1', '']

describe('getGatewayClientIp: default (false)', () => {
  it('is the socket peer, whatever X-Forwarded-For and the platform headers say', () => {
    for (const spoof of SPOOFS) {
      expect(ip(false, '203.0.113.5', { 'x-forwarded-for': spoof, 'x-real-ip': '1.2.3.4', 'cf-connecting-ip': '5.6.7.8' })).toBe('203.0.113.5')
    }
  })

  it('normalises an IPv4-mapped IPv6 socket address and canonicalises IPv6', () => {
    expect(ip(false, '::ffff:198.51.100.7')).toBe('198.51.100.7')
    expect(ip(false, '2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1')
  })

  it('says unknown when the runtime gives no socket address, rather than reading a header', () => {
    expect(ip(false, undefined, { 'x-forwarded-for': '1.1.1.1' })).toBe('unknown')
  })

  it('treats an invalid setting as false', () => {
    expect(ip(true as unknown as TrustProxySetting, '203.0.113.5', { 'x-forwarded-for': '1.1.1.1' })).toBe('203.0.113.5')
    expect(ip(-1, '203.0.113.5', { 'x-forwarded-for': '1.1.1.1' })).toBe('203.0.113.5')
  })
})

describe('getGatewayClientIp: hop count', () => {
  it('1 hop: the rightmost X-Forwarded-For entry; spoofed entries to its left change nothing', () => {
    for (const spoof of SPOOFS) {
      const xff = spoof ? `${spoof}, 203.0.113.7` : '203.0.113.7'
      expect(ip(1, '10.0.0.1', { 'x-forwarded-for': xff })).toBe('203.0.113.7')
    }
  })

  it('2 hops: the second from the right, counting the socket as hop 0', () => {
    for (const spoof of SPOOFS) {
      const xff = [spoof, '203.0.113.7', '10.0.0.2'].filter(Boolean).join(', ')
      expect(ip(2, '10.0.0.1', { 'x-forwarded-for': xff })).toBe('203.0.113.7')
    }
  })

  it('a chain shorter than the hop count (the proxies were bypassed) gives the socket address', () => {
    expect(ip(1, '203.0.113.9')).toBe('203.0.113.9')
    expect(ip(3, '203.0.113.9', { 'x-forwarded-for': '1.1.1.1, 2.2.2.2' })).toBe('203.0.113.9')
  })

  it('joins repeated X-Forwarded-For headers as one list and strips ports', () => {
    expect(ip(1, '10.0.0.1', { 'x-forwarded-for': '6.6.6.6,203.0.113.7:51234' })).toBe('203.0.113.7')
    expect(ip(1, '10.0.0.1', { 'x-forwarded-for': '[2001:db8::7]:443' })).toBe('2001:db8::7')
  })

  it('never keys on a garbage entry', () => {
    expect(ip(1, '10.0.0.1', { 'x-forwarded-for': '203.0.113.7, not-an-ip' })).toBe('10.0.0.1')
  })
})

describe('getGatewayClientIp: trusted proxy CIDRs', () => {
  const trusted = ['10.0.0.0/8', 'fd00::/8']

  it('skips trusted proxies from the right; the first untrusted address is the client', () => {
    for (const spoof of SPOOFS) {
      const xff = [spoof, '198.51.100.9', '10.20.30.40'].filter(Boolean).join(', ')
      expect(ip(trusted, '10.0.0.1', { 'x-forwarded-for': xff })).toBe('198.51.100.9')
    }
  })

  it('ignores X-Forwarded-For entirely when the socket peer is not a trusted proxy', () => {
    expect(ip(trusted, '203.0.113.50', { 'x-forwarded-for': '1.1.1.1' })).toBe('203.0.113.50')
  })

  it('handles IPv6 proxies and clients, and IPv4-mapped sockets against IPv4 ranges', () => {
    expect(ip(trusted, 'fd00::1', { 'x-forwarded-for': '2001:db8::9' })).toBe('2001:db8::9')
    expect(ip(trusted, '::ffff:10.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).toBe('198.51.100.1')
    expect(ip(trusted, 'fd12:3456::1', { 'x-forwarded-for': '::ffff:10.9.9.9, 2001:db8::1:0:0:1' })).toBe('2001:db8::1:0:0:1')
  })

  it('stops at the last trusted hop when it meets an entry that is not an address', () => {
    expect(ip(trusted, '10.0.0.1', { 'x-forwarded-for': '1.1.1.1, garbage, 10.0.0.3' })).toBe('10.0.0.3')
  })

  it('gives the leftmost address when every hop is trusted (an internal client)', () => {
    expect(ip(trusted, '10.0.0.1', { 'x-forwarded-for': '10.1.1.1, 10.2.2.2' })).toBe('10.1.1.1')
  })

  it('says unknown without a socket address, since trust cannot be checked', () => {
    expect(ip(trusted, undefined, { 'x-forwarded-for': '1.1.1.1' })).toBe('unknown')
  })
})

describe('getGatewayClientIp: platform headers', () => {
  it('cf-connecting-ip: the header, not X-Forwarded-For; the socket when missing or not an address', () => {
    expect(ip('cf-connecting-ip', '172.64.0.1', { 'cf-connecting-ip': '2001:db8::1', 'x-forwarded-for': '1.1.1.1' })).toBe('2001:db8::1')
    expect(ip('cf-connecting-ip', '172.64.0.1', { 'x-forwarded-for': '1.1.1.1' })).toBe('172.64.0.1')
    expect(ip('cf-connecting-ip', '172.64.0.1', { 'cf-connecting-ip': 'garbage' })).toBe('172.64.0.1')
  })

  it('x-nf-client-connection-ip (Netlify): the header, not X-Forwarded-For; the socket when missing', () => {
    expect(ip('x-nf-client-connection-ip', '10.0.0.1', { 'x-nf-client-connection-ip': '198.51.100.9', 'x-forwarded-for': '1.1.1.1' })).toBe('198.51.100.9')
    expect(ip('x-nf-client-connection-ip', '10.0.0.1', { 'x-forwarded-for': '1.1.1.1' })).toBe('10.0.0.1')
    expect(parseTrustProxy('X-NF-Client-Connection-IP')).toBe('x-nf-client-connection-ip')
  })

  it('x-real-ip: the header, not cf-connecting-ip', () => {
    expect(ip('x-real-ip', '10.0.0.1', { 'x-real-ip': '198.51.100.3', 'cf-connecting-ip': '1.1.1.1' })).toBe('198.51.100.3')
    expect(ip('x-real-ip', '10.0.0.1')).toBe('10.0.0.1')
  })
})

describe('getGatewayClientIp over a real socket', () => {
  let server: Server
  let url: string
  let trustProxy: TrustProxySetting = false

  beforeAll(async () => {
    const app = createApp()
    app.use(defineEventHandler(event => getGatewayClientIp(event, trustProxy)))
    server = createServer(toNodeListener(app))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(async () => {
    await new Promise(resolve => server.close(resolve))
  })

  it('keys on 127.0.0.1 however X-Forwarded-For is spoofed, unless loopback is trusted', async () => {
    const get = (xff: string) => fetch(url, { headers: { 'x-forwarded-for': xff } }).then(r => r.text())
    trustProxy = false
    expect(await get('1.1.1.1')).toBe('127.0.0.1')
    expect(await get('2.2.2.2')).toBe('127.0.0.1')
    trustProxy = ['127.0.0.0/8']
    expect(await get('6.6.6.6, 198.51.100.4')).toBe('198.51.100.4')
  })
})

describe('normalizeClientIp', () => {
  it('canonicalises what sockets and headers carry', () => {
    const cases: Record<string, string> = {
      '192.0.2.1': '192.0.2.1',
      ' 192.0.2.1 ': '192.0.2.1',
      '192.0.2.1:8080': '192.0.2.1',
      '::ffff:192.0.2.1': '192.0.2.1',
      '::FFFF:c000:0201': '192.0.2.1',
      '[::1]:443': '::1',
      '[2001:db8::1]': '2001:db8::1',
      'fe80::1%eth0': 'fe80::1',
      '2001:0DB8:0000:0000:0000:0000:0000:0001': '2001:db8::1',
      '2001:db8:0:0:1:0:0:1': '2001:db8::1:0:0:1',
      '2001:0:0:1:0:0:0:1': '2001:0:0:1::1',
      '2001:db8:0:1:1:1:1:1': '2001:db8:0:1:1:1:1:1',
      '1:2:3:4:5:6:7::': '1:2:3:4:5:6:7:0',
      '::': '::',
      '64:ff9b::192.0.2.1': '64:ff9b::c000:201',
    }
    for (const [input, expected] of Object.entries(cases)) expect(normalizeClientIp(input), input).toBe(expected)
  })

  it('refuses what is not an address', () => {
    for (const input of ['', 'unknown', '01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.5', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', ':1:2:3:4:5:6:7', '12345::', '::1.2.3', '1.2.3.4::', 'g::1', '[::1']) {
      expect(normalizeClientIp(input), input).toBeNull()
    }
  })

  it('formats IPv6 as the WHATWG URL serialiser does (RFC 5952), over random addresses', () => {
    let seed = 7
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    for (let n = 0; n < 500; n++) {
      // Many zero groups, so that compression is exercised.
      const groups = Array.from({ length: 8 }, () => (random() < 0.5 ? 0 : Math.floor(random() * 0x10000)))
      if (groups.slice(0, 5).every(g => g === 0) && groups[5] === 0xFFFF) continue // IPv4-mapped: formatted as IPv4 here
      const text = groups.map(g => g.toString(16)).join(':')
      expect(normalizeClientIp(text), text).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1))
    }
  })
})

describe('isIpInCidr', () => {
  it('matches IPv4 and IPv6 ranges at every kind of boundary', () => {
    expect(isIpInCidr('10.255.255.255', '10.0.0.0/8')).toBe(true)
    expect(isIpInCidr('11.0.0.0', '10.0.0.0/8')).toBe(false)
    expect(isIpInCidr('192.168.1.130', '192.168.1.128/25')).toBe(true)
    expect(isIpInCidr('192.168.1.127', '192.168.1.128/25')).toBe(false)
    expect(isIpInCidr('203.0.113.9', '0.0.0.0/0')).toBe(true)
    expect(isIpInCidr('203.0.113.9', '203.0.113.9')).toBe(true)
    expect(isIpInCidr('203.0.113.10', '203.0.113.9/32')).toBe(false)
    expect(isIpInCidr('2001:db8:ffff::1', '2001:db8::/32')).toBe(true)
    expect(isIpInCidr('2001:db9::1', '2001:db8::/32')).toBe(false)
    expect(isIpInCidr('fd00::1', 'fc00::/7')).toBe(true)
    expect(isIpInCidr('fe00::1', 'fc00::/7')).toBe(false)
    expect(isIpInCidr('::1', '::1/128')).toBe(true)
  })

  it('never matches across families, except IPv4-mapped addresses and ranges', () => {
    expect(isIpInCidr('10.0.0.1', '::/0')).toBe(false)
    expect(isIpInCidr('2001:db8::1', '0.0.0.0/0')).toBe(false)
    expect(isIpInCidr('::ffff:10.0.0.1', '10.0.0.0/8')).toBe(true)
    expect(isIpInCidr('10.0.0.1', '::ffff:10.0.0.0/104')).toBe(true)
    expect(isIpInCidr('11.0.0.1', '::ffff:10.0.0.0/104')).toBe(false)
  })

  it('is false for anything unparsable', () => {
    expect(isIpInCidr('garbage', '10.0.0.0/8')).toBe(false)
    for (const cidr of ['10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '2001:db8::/129', 'x/8', '10.0.0.0/8/8']) {
      expect(isIpInCidr('10.0.0.1', cidr), cidr).toBe(false)
    }
  })

  it('agrees with node:net BlockList over random addresses and prefixes', () => {
    let seed = 42
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
    const v4 = () => Array.from({ length: 4 }, () => Math.floor(random() * 256)).join('.')
    const v6 = () => Array.from({ length: 8 }, () => Math.floor(random() * 0x10000).toString(16)).join(':').replace(/^0:/, '2001:')
    for (let n = 0; n < 2000; n++) {
      const family = random() < 0.5 ? 'ipv4' : 'ipv6'
      const net = family === 'ipv4' ? v4() : v6()
      const prefix = Math.floor(random() * (family === 'ipv4' ? 33 : 129))
      // Half the probes share the network's first bytes, so matches are common.
      const probe = random() < 0.5 ? (family === 'ipv4' ? v4() : v6()) : net.replace(/[\da-f]+$/, family === 'ipv4' ? String(Math.floor(random() * 256)) : Math.floor(random() * 0x10000).toString(16))
      const list = new BlockList()
      list.addSubnet(net, prefix, family)
      expect(isIpInCidr(probe, `${net}/${prefix}`), `${probe} in ${net}/${prefix}`).toBe(list.check(probe, family))
    }
  })
})

describe('parseTrustProxy', () => {
  it('accepts what NUXT_* env values and config produce', () => {
    expect(parseTrustProxy(false)).toBe(false)
    expect(parseTrustProxy('false')).toBe(false)
    expect(parseTrustProxy('')).toBe(false)
    expect(parseTrustProxy(undefined)).toBe(false)
    expect(parseTrustProxy(0)).toBe(false)
    expect(parseTrustProxy(1)).toBe(1)
    expect(parseTrustProxy('2')).toBe(2)
    expect(parseTrustProxy(' 3 ')).toBe(3)
    expect(parseTrustProxy('10.0.0.0/8,192.168.0.0/16')).toEqual(['10.0.0.0/8', '192.168.0.0/16'])
    expect(parseTrustProxy(' 10.0.0.0/8 , fd00::/8 ,')).toEqual(['10.0.0.0/8', 'fd00::/8'])
    expect(parseTrustProxy(['10.0.0.0/8'])).toEqual(['10.0.0.0/8'])
    expect(parseTrustProxy('["10.0.0.0/8","2001:DB8::/32"]')).toEqual(['10.0.0.0/8', '2001:db8::/32'])
    expect(parseTrustProxy(['203.0.113.9', '::1'])).toEqual(['203.0.113.9/32', '::1/128'])
    expect(parseTrustProxy(['10.1.2.3/8', '::ffff:10.0.0.0/104'])).toEqual(['10.0.0.0/8', '10.0.0.0/8'])
    expect(parseTrustProxy([])).toBe(false)
    expect(parseTrustProxy('cf-connecting-ip')).toBe('cf-connecting-ip')
    expect(parseTrustProxy('X-Real-IP')).toBe('x-real-ip')
  })

  it('refuses anything else with a clear error', () => {
    const bad: unknown[] = [true, 'true', -1, 1.5, 33, '1.5', 'x-forwarded-for', 'yes', '10.0.0.0/33', '10.0.0.0/8,nope', [10], ['10.0.0.0/8', null], '[1,', '{"a":1}', {}, Symbol('x'), () => 1]
    for (const value of bad) {
      expect(() => parseTrustProxy(value), String(value)).toThrow(/Invalid trustProxy setting/)
    }
    expect(() => parseTrustProxy(true)).toThrow(/forge/)
  })
})
