import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp, createRouter, defineEventHandler, toNodeListener } from 'h3'
// The mock request Nitro's internal fetch is made of (nitropack's `localFetch` uses exactly this call).
import { callNodeRequestHandler } from 'node-mock-http'
import { getGatewayClientIp, recordGatewaySocketAddress } from '../../layers/cockpit-gateway/server/client-address/client-ip'

// A page rendered on the server fetches its data through Nitro's internal fetch: a request with no socket,
// carrying the outer request's context. It must be keyed as the outer request's client, not as 'unknown'
// (which would also print the "client address is unknown on this runtime" warning on a plain Node server).
describe('getGatewayClientIp for Nitro\'s internal requests', () => {
  let server: Server
  let base = ''
  let record = true

  beforeAll(async () => {
    const app = createApp({
      onRequest: (event) => {
        if (record) recordGatewaySocketAddress(event)
      },
    })
    const router = createRouter()
    const inner = toNodeListener(app)
    router.get('/inner', defineEventHandler(event => ({ ip: getGatewayClientIp(event, false) })))
    router.get('/outer', defineEventHandler(async (event) => {
      const response = await callNodeRequestHandler(inner, { url: '/inner', headers: { 'x-forwarded-for': '198.51.100.9' }, context: event.context })
      return { outer: getGatewayClientIp(event, false), inner: JSON.parse(String(response.body)).ip }
    }))
    app.use(router)
    server = createServer(toNodeListener(app))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())))

  it('keys an internal request as the client of the request that made it', async () => {
    record = true
    expect(await (await fetch(`${base}/outer`)).json()).toEqual({ outer: '127.0.0.1', inner: '127.0.0.1' })
  })

  it('is unknown (never a header) when nothing recorded an address', async () => {
    record = false
    expect(await (await fetch(`${base}/outer`)).json()).toEqual({ outer: '127.0.0.1', inner: 'unknown' })
  })

  it('cannot be set from outside: a direct request without the record has its own socket address only', async () => {
    record = false
    expect(await (await fetch(`${base}/inner`, { headers: { 'x-forwarded-for': '198.51.100.9' } })).json()).toEqual({ ip: '127.0.0.1' })
  })
})
