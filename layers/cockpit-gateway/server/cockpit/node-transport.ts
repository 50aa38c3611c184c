import type { Agent, IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http'
import { CockpitError } from './cockpit-errors'

/** One upstream exchange as the shared transport hands it over: every header already decided. */
export interface CockpitTransportRequest {
  method: string
  /** Absolute URL: the configured base, the path and the encoded query. */
  url: URL
  headers: Record<string, string>
  body?: string
  /** Total bound in ms; the transport frees its socket when it passes. */
  timeout: number
  /** Largest body read; a larger one rejects with `UPSTREAM_ERROR`. */
  maxBytes: number
  /** Read the body as bytes (`bytes`; `text` is then empty), e.g. an image. @default false */
  binary?: boolean
}

/** The headers of an answer, as much of the Fetch `Headers` API as the adapters use. */
export interface CockpitResponseHeaders {
  get: (name: string) => string | null
  getSetCookie: () => string[]
}

/** What a transport resolves with; it rejects with a {@link CockpitError} or any other error (a network failure). */
export interface CockpitTransportResponse {
  status: number
  headers: CockpitResponseHeaders
  text: string
  /** The body, for a `binary` request only. */
  bytes?: Uint8Array
}

/** Sends one request and reads its whole (capped) body. Never follows a redirect. */
export type CockpitTransport = (request: CockpitTransportRequest) => Promise<CockpitTransportResponse>

// Below the 5 s keep-alive of Apache and Node servers, so an idle socket is dropped by us first; a shorter
// `Keep-Alive: timeout=` hint from the server wins (Node's agent reads it).
const IDLE_SOCKET_TIMEOUT = 4000

type NodeHttp = typeof import('node:http')

/**
 * Whether this is Node.js itself: not Bun, Deno or workerd, which also answer to `process` (with
 * `nodejs_compat`) but have a fetch of their own that needs no replacing.
 */
export function isNodeRuntime(): boolean {
  const runtime = globalThis as { Bun?: unknown, Deno?: unknown, navigator?: { userAgent?: string }, process?: { release?: { name?: string }, getBuiltinModule?: unknown } }
  return runtime.Bun === undefined && runtime.Deno === undefined
    && runtime.navigator?.userAgent !== 'Cloudflare-Workers'
    && runtime.process?.release?.name === 'node'
    && typeof runtime.process.getBuiltinModule === 'function'
}

/**
 * The transport for Node.js: `node:http`/`node:https` with a keep-alive agent. On Node 20 a bare proxy needs
 * about half the CPU per request on it that it needs on fetch (`npm run bench`: the `bare-http` and
 * `bare-proxy` rows), and the gateway makes an upstream call per uncached read or create (more for updates and
 * deletes: an existence check, a read-back). Modules are taken with
 * `process.getBuiltinModule`, so bundles for other runtimes never reference them.
 * Bodies are asked for uncompressed (no `accept-encoding`): Cockpit usually sits next to the gateway.
 * @param base the normalised base URL (its protocol picks `node:http` or `node:https`)
 * @returns undefined when not running on Node.js
 */
export function createNodeCockpitTransport(base: string): CockpitTransport | undefined {
  if (!isNodeRuntime()) return undefined
  const secure = base.startsWith('https:')
  const http = process.getBuiltinModule(secure ? 'node:https' : 'node:http') as NodeHttp | undefined
  if (!http) return undefined
  const agent: Agent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT, scheduling: 'lifo' })
  return request => new Promise<CockpitTransportResponse>((resolve, reject) => {
    const { url, maxBytes } = request
    const options: RequestOptions = {
      agent,
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || undefined,
      path: url.pathname + url.search,
      headers: request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
    }
    let settled = false
    // Declared below, before any event can call it.
    // eslint-disable-next-line prefer-const
    let timer: ReturnType<typeof setTimeout> | undefined
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      outgoing.destroy()
      reject(error)
    }
    const outgoing = http.request(options, (response: IncomingMessage) => {
      const status = response.statusCode ?? 0
      if (Number(response.headers['content-length']) > maxBytes) return fail(new CockpitError('UPSTREAM_ERROR', status))
      const chunks: Buffer[] = []
      let size = 0
      response.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBytes) return fail(new CockpitError('UPSTREAM_ERROR', status))
        chunks.push(chunk)
      })
      response.on('error', fail)
      response.on('end', () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
        if (request.binary) return resolve({ status, headers: new NodeResponseHeaders(response.headers), text: '', bytes: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) })
        let text = body.toString('utf8')
        // As fetch's `text()` does.
        if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
        resolve({ status, headers: new NodeResponseHeaders(response.headers), text })
      })
    })
    timer = setTimeout(() => fail(new Error('timeout')), request.timeout)
    outgoing.on('error', fail)
    outgoing.end(request.body)
  })
}

class NodeResponseHeaders implements CockpitResponseHeaders {
  constructor(private readonly headers: IncomingHttpHeaders) {}

  get(name: string): string | null {
    const value = this.headers[name.toLowerCase()]
    if (value === undefined) return null
    return Array.isArray(value) ? value.join(', ') : value
  }

  getSetCookie(): string[] {
    return this.headers['set-cookie'] ?? []
  }
}
