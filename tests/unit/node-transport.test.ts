import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createNodeCockpitTransport, isNodeRuntime } from '../../layers/cockpit-gateway/server/cockpit/node-transport'
import type { CockpitTransport } from '../../layers/cockpit-gateway/server/cockpit/node-transport'
import { createCockpitClient } from '../../layers/cockpit-gateway/server/cockpit/cockpit-client'
import { CockpitError } from '../../layers/cockpit-gateway/server/cockpit/cockpit-errors'

// The `node:http` transport against a real local server whose misbehaviours the emulator can't produce:
// redirects, oversized and endless bodies, resets mid-body, a BOM, repeated headers, socket reuse.

type Handler = (request: IncomingMessage, response: ServerResponse) => void

let server: Server
let base: string
let handler: Handler
const connections = new Set<Socket>()
let connectionCount = 0
const hits: { method?: string, url?: string, headers: IncomingMessage['headers'], body: string }[] = []

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      hits.push({ method: request.method, url: request.url, headers: request.headers, body })
      handler(request, response)
    })
  })
  server.on('connection', (socket) => {
    connectionCount++
    connections.add(socket)
    socket.on('close', () => connections.delete(socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const socket of connections) socket.destroy()
  await new Promise(resolve => server.close(resolve))
})
beforeEach(() => {
  hits.length = 0
  handler = (_request, response) => response.end('{}')
})

function transport(): CockpitTransport {
  const created = createNodeCockpitTransport(base)
  if (!created) throw new Error('not Node.js')
  return created
}

const send = (t: CockpitTransport, path: string, init: { method?: string, body?: string, timeout?: number, maxBytes?: number } = {}) =>
  t({ method: init.method ?? 'GET', url: new URL(base + path), headers: { accept: 'application/json' }, body: init.body, timeout: init.timeout ?? 2000, maxBytes: init.maxBytes ?? 1024 })

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  }
  catch (error) {
    return error
  }
  throw new Error('resolved')
}

describe('node:http transport', () => {
  it('is the one picked on Node.js', () => {
    expect(isNodeRuntime()).toBe(true)
  })

  it('sends method, path, query, headers and a JSON body with its length; asks for no compression', async () => {
    handler = (_request, response) => response.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}')
    const answer = await send(transport(), '/api/x?filter=%7B%7D&a=b+c', { method: 'POST', body: '{"title":"é"}' })
    expect(answer.status).toBe(201)
    expect(answer.text).toBe('{"ok":true}')
    expect(answer.headers.get('Content-Type')).toBe('application/json')
    expect(hits[0]).toMatchObject({ method: 'POST', url: '/api/x?filter=%7B%7D&a=b+c', body: '{"title":"é"}' })
    expect(hits[0]!.headers['content-length']).toBe(String(Buffer.byteLength('{"title":"é"}')))
    expect(hits[0]!.headers['accept-encoding']).toBeUndefined()
  })

  it('never follows a redirect: the 3xx is the answer', async () => {
    handler = (_request, response) => response.writeHead(302, { location: `${base}/elsewhere` }).end()
    const answer = await send(transport(), '/api/x')
    expect(answer.status).toBe(302)
    expect(hits.map(hit => hit.url)).toEqual(['/api/x'])
  })

  it('refuses a body over the cap, by its declared length or as it streams, and frees the socket', async () => {
    handler = (_request, response) => response.writeHead(200, { 'content-length': '5000' }).end('x'.repeat(5000))
    const declared = await rejection(send(transport(), '/big', { maxBytes: 1000 }))
    expect(declared).toBeInstanceOf(CockpitError)
    expect((declared as CockpitError).code).toBe('UPSTREAM_ERROR')

    let streamed = 0
    handler = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      // An endless body: only the cap ends it.
      const timer = setInterval(() => {
        streamed++
        if (!response.write('x'.repeat(512)) || streamed > 200) clearInterval(timer)
      }, 1)
      response.on('close', () => clearInterval(timer))
    }
    const endless = await rejection(send(transport(), '/endless', { maxBytes: 2000 }))
    expect((endless as CockpitError).code).toBe('UPSTREAM_ERROR')
    expect(streamed).toBeLessThan(200)
  })

  it('rejects on a reset mid-body and on a stall past the timeout', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-length': '100' })
      response.write('{"half":')
      setTimeout(() => response.socket?.destroy(), 10)
    }
    expect(await rejection(send(transport(), '/reset'))).toBeInstanceOf(Error)
    handler = () => {}
    const stalled = await rejection(send(transport(), '/stall', { timeout: 100 }))
    expect((stalled as Error).message).toBe('timeout')
  })

  it('drops a UTF-8 BOM as fetch does, joins repeated headers and lists Set-Cookie lines', async () => {
    handler = (_request, response) => {
      response.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly'])
      response.setHeader('x-many', ['one', 'two'])
      response.end('\uFEFF{"ok":1}')
    }
    const answer = await send(transport(), '/bom')
    expect(answer.text).toBe('{"ok":1}')
    expect(answer.headers.get('x-many')).toBe('one, two')
    expect(answer.headers.get('missing')).toBeNull()
    expect(answer.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly'])
  })

  it('keeps connections alive between calls', async () => {
    const t = transport()
    const before = connectionCount
    for (let i = 0; i < 5; i++) expect((await send(t, `/seq/${i}`)).status).toBe(200)
    expect(connectionCount - before).toBe(1)
  })
})

describe('the client over node:http', () => {
  it('maps transport failures to the fixed codes and refuses a key with a control character before any call', async () => {
    const client = createCockpitClient({ url: base, version: 2, transport: 'node', retryDelay: 0, timeout: 100 })
    handler = () => {}
    await expect(client.list('posts', {}, { key: 'API-x' })).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' })
    handler = (_request, response) => response.socket?.destroy()
    hits.length = 0
    await expect(client.list('posts', {}, { key: 'API-x' })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' })
    // A read is retried once on a network error.
    expect(hits).toHaveLength(2)
    hits.length = 0
    await expect(client.list('posts', {}, { key: 'API-x\r\nX-Injected: 1' })).rejects.toMatchObject({ code: 'MISSING_KEY' })
    expect(hits).toHaveLength(0)
  })
})
