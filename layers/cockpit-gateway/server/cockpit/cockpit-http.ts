import { createNodeCockpitTransport } from './node-transport'
import type { CockpitTransport, CockpitTransportResponse } from './node-transport'
import { createUpstreamGuard } from './upstream-guard'
import type { UpstreamOutcome } from './upstream-guard'
import { CockpitError } from './cockpit-errors'
import type { CockpitClientHooks, CockpitClientOptions } from './cockpit-types'

/** Per-call timeout when the options give none, in ms. */
const COCKPIT_DEFAULT_TIMEOUT = 5000

/** Jitter bound of the single read retry when the options give none, in ms. */
const COCKPIT_DEFAULT_RETRY_DELAY = 200

/** Largest upstream body the client reads before giving up with `UPSTREAM_ERROR` (16 MiB). */
const COCKPIT_DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

// Hooks may add tracing headers, but never a credential: the key and the session cookie are set by
// the client alone, after the hooks ran, so a hook can neither read nor replace them.
const CREDENTIAL_HEADERS = ['api-key', 'cockpit-token', 'authorization', 'cookie']

/** One upstream call, as the v1 and v2 adapters describe it. */
export interface CockpitHttpRequest {
  method: 'GET' | 'POST' | 'DELETE'
  /** Path below the base URL, starting with `/`, every dynamic segment already encoded. */
  path: string
  /** Query parameters; `undefined` values are left out. Never a key. @default {} */
  query?: Record<string, string | undefined>
  /** Body, sent as JSON with `content-type: application/json`. @default undefined (no body) */
  json?: unknown
  /** Headers hooks never see: the key, a session cookie. @default {} */
  secretHeaders?: Record<string, string>
  /** @default 'application/json' */
  accept?: string
  /**
   * Name handed to the hooks: the adapter method (`list`, `get`, `create`, `update`, `remove`,
   * `authenticate`, `health`), or `<method>:<step>` for its extra calls (`update:check`,
   * `update:read`, `remove:check`, `list:count`, `create:probe`, `authenticate:form`).
   */
  operation: string
  /** Model the call is about, handed to the hooks. @default undefined */
  model?: string
  /** Read the body as bytes (`bytes` of the response; `text` is then empty), e.g. an image. @default false */
  binary?: boolean
  /** A lower cap than the client's `maxResponseBytes` for this call's body. @default the client's */
  maxBytes?: number
  /** One retry, after a random 0..retryDelay ms pause, on a network error, 502 or 503. Only for idempotent reads. @default false */
  retry?: boolean
  /** The gateway request this call serves: its id is sent as `X-Request-Id`; the status and time are noted on it. @default undefined */
  trace?: CockpitCallTrace
}

/** What a call reads from and writes to the request it serves (the gateway's request trace fits it). */
export interface CockpitCallTrace {
  requestId: string
  upstreamStatus?: number
  upstreamMs?: number
}

/** What came back: the status and the (small, capped) body text, never passed on as is. */
export type CockpitHttpResponse = CockpitTransportResponse

// What a header value may hold on every runtime (Node's `node:http` is the strictest): no control characters.
const HEADER_VALUE = /^[\t\x20-\x7E\x80-\xFF]*$/

/** Sends one upstream call; rejects only with a {@link CockpitError}, or with a hook's own error. */
export type CockpitHttp = (request: CockpitHttpRequest) => Promise<CockpitHttpResponse>

/**
 * Checks the configured base URL and returns it without query, hash or trailing slash.
 * @param url e.g. `https://cms.example.com` or `https://example.com/cockpit`
 * @throws TypeError with a fixed message (the URL is not quoted) when it is not an http(s) URL
 */
function normaliseCockpitBaseUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  }
  catch {
    throw new TypeError('Invalid Cockpit URL')
  }
  // Credentials in the URL would be sent on every call and end up in fetch error messages.
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.username || parsed.password) {
    throw new TypeError('Invalid Cockpit URL')
  }
  return parsed.origin + parsed.pathname.replace(/\/+$/, '')
}

/**
 * Builds the transport both adapters share: timeout, one jittered retry for reads, hooks, a capped
 * body read, and no redirects (a redirect could carry the key to another host). Sent through `node:http` on
 * Node.js and through fetch on every other runtime (Bun, Deno, Cloudflare Workers).
 * @param options client options (`url`, `timeout`, `retryDelay`, `maxResponseBytes`, `hooks`, `fetch`)
 */
export function createCockpitHttp(options: CockpitClientOptions): CockpitHttp {
  const base = normaliseCockpitBaseUrl(options.url)
  const timeout = positiveOr(options.timeout, COCKPIT_DEFAULT_TIMEOUT)
  const retryDelay = options.retryDelay !== undefined && options.retryDelay >= 0 ? options.retryDelay : COCKPIT_DEFAULT_RETRY_DELAY
  const maxBytes = positiveOr(options.maxResponseBytes, COCKPIT_DEFAULT_MAX_RESPONSE_BYTES)
  const hooks: CockpitClientHooks = options.hooks ?? {}
  const transport = pickCockpitTransport(base, options)
  const guard = options.guard && createUpstreamGuard(options.guard)

  async function attempt(request: CockpitHttpRequest, url: URL, body: string | undefined): Promise<CockpitHttpResponse> {
    const { method, operation, model } = request
    let headers: Record<string, string> = { accept: request.accept ?? 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (hooks.onRequest && hooks.hasRequestListener?.() !== false) {
      const hookHeaders = new Headers(headers)
      const requestHook = hooks.onRequest({ method, operation, model, headers: hookHeaders, requestId: request.trace?.requestId })
      if (requestHook) await requestHook
      headers = {}
      hookHeaders.forEach((value, name) => {
        if (!CREDENTIAL_HEADERS.includes(name)) headers[name] = value
      })
    }
    if (request.trace) headers['x-request-id'] = request.trace.requestId
    for (const [name, value] of Object.entries(request.secretHeaders ?? {})) {
      // Checked here, as no transport may quote a refused value in its error.
      if (!HEADER_VALUE.test(value)) throw new CockpitError('MISSING_KEY')
      headers[name.toLowerCase()] = value
    }

    const started = Date.now()
    let status: number | undefined
    const send = async (): Promise<CockpitHttpResponse> => {
      let timedOut = false
      let timer: ReturnType<typeof setTimeout> | undefined
      // Raced as well as handed to the transport, so the bound holds even with a fetch that ignores it.
      const aborted = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          timedOut = true
          reject(new Error('aborted'))
        }, timeout)
      })
      aborted.catch(() => {})
      try {
        const response = await Promise.race([transport({ method, url, headers, body, timeout, maxBytes: Math.min(maxBytes, request.maxBytes ?? maxBytes), binary: request.binary }), aborted])
        status = response.status
        return response
      }
      catch (error) {
        // A fresh error without `cause`: fetch errors name the URL, and some runtimes the address.
        if (error instanceof CockpitError) status ??= error.upstreamStatus
        if (timedOut) throw new CockpitError('UPSTREAM_TIMEOUT', status)
        if (error instanceof CockpitError) throw error
        throw new CockpitError('UPSTREAM_UNAVAILABLE', status, undefined, isConnectionRefused(error))
      }
      finally {
        clearTimeout(timer)
      }
    }
    try {
      return guard ? await guard.run(send, countAnswer) : await send()
    }
    finally {
      const durationMs = Date.now() - started
      if (request.trace) {
        request.trace.upstreamStatus = status
        request.trace.upstreamMs = (request.trace.upstreamMs ?? 0) + durationMs
      }
      const responseHook = hooks.onResponse?.({ method, operation, model, status, durationMs, requestId: request.trace?.requestId })
      if (responseHook) await responseHook
    }
  }

  return async function sendCockpitRequest(request) {
    const url = new URL(base + request.path)
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value)
    }
    let body: string | undefined
    if (request.json !== undefined) {
      try {
        body = JSON.stringify(request.json)
      }
      catch {
        throw new CockpitError('INVALID_DATA')
      }
    }
    const attempts = request.retry ? 2 : 1
    // What the first attempt got: when the guard refuses the retry, that is still the truth for this call.
    let first: { response: CockpitHttpResponse } | { error: CockpitError } | undefined
    for (let n = 1; ; n++) {
      try {
        const response = await attempt(request, url, body)
        if (n < attempts && (response.status === 502 || response.status === 503)) {
          first = { response }
          await sleep(cockpitJitter(retryDelay))
          continue
        }
        return response
      }
      catch (error) {
        if (first && error instanceof CockpitError && (error.code === 'UPSTREAM_BUSY' || error.code === 'UPSTREAM_CIRCUIT_OPEN')) {
          if ('response' in first) return first.response
          throw first.error
        }
        // Timeouts are not retried: a second wait would double the latency the timeout bounds.
        if (n < attempts && error instanceof CockpitError && error.code === 'UPSTREAM_UNAVAILABLE') {
          first = { error }
          await sleep(cockpitJitter(retryDelay))
          continue
        }
        // Only a call none of whose attempts left is "not sent".
        if (first && error instanceof CockpitError && error.notSent && !('error' in first && first.error.notSent)) {
          throw new CockpitError(error.code, error.upstreamStatus, error.retryAfter)
        }
        throw error
      }
    }
  }
}

/**
 * Whether a transport's failure is a refused connection: nothing was sent. Node's `ECONNREFUSED` comes
 * only from a connect, never from a reused keep-alive socket, and neither transport resends a request.
 * @param error what the transport rejected with (fetch puts Node's error in `cause`)
 */
function isConnectionRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code
  return code === 'ECONNREFUSED'
}

/** A gateway that answers is up, unless it says it can't reach or wait for Cockpit behind it. */
function countAnswer(response: CockpitHttpResponse): UpstreamOutcome {
  return response.status === 502 || response.status === 503 || response.status === 504 ? 'failed' : 'ok'
}

/**
 * The transport `options` ask for: `fetch` when one is injected or `transport: 'fetch'`; on Node.js otherwise
 * `node:http` with a keep-alive agent (see {@link createNodeCockpitTransport}); the runtime's fetch elsewhere.
 * @param base the normalised base URL
 * @param options client options
 */
function pickCockpitTransport(base: string, options: CockpitClientOptions): CockpitTransport {
  if (options.fetch || options.transport === 'fetch') return createFetchCockpitTransport(options.fetch)
  const node = createNodeCockpitTransport(base)
  if (node) return node
  if (options.transport === 'node') throw new TypeError('The node transport needs Node.js')
  return createFetchCockpitTransport()
}

/**
 * The Web API transport: fetch with `redirect: 'manual'`, a timeout signal and a capped body read. Runs on
 * every runtime (Workers, Deno, Bun, Node).
 * @param fetchImpl an injected fetch. @default globalThis.fetch, resolved per call
 */
function createFetchCockpitTransport(fetchImpl?: typeof globalThis.fetch): CockpitTransport {
  // Resolved per call and never called unbound: Workers reject `fetch` detached from globalThis.
  const doFetch: typeof globalThis.fetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init))
  return async ({ method, url, headers, body, timeout, maxBytes, binary }) => {
    // The signal aborts the socket at the timeout. Not one from `new AbortController()`: on Node 20, undici
    // keeps about 8 KB per call alive for such a signal that never fires (RSS grew without end in the bench).
    const response = await doFetch(url.href, { method, headers, body, signal: AbortSignal.timeout(timeout), redirect: 'manual' })
    try {
      if (binary) return { status: response.status, headers: response.headers, text: '', bytes: await readCockpitBytes(response, maxBytes) }
      return { status: response.status, headers: response.headers, text: await readCockpitBody(response, maxBytes) }
    }
    catch (error) {
      if (error instanceof CockpitError) throw error
      throw new CockpitError('UPSTREAM_UNAVAILABLE', response.status)
    }
  }
}

/**
 * Reads a body as text, giving up past `maxBytes` so a misbehaving upstream can't exhaust memory.
 * @param response the fetch response
 * @param maxBytes the cap
 * @throws CockpitError `UPSTREAM_ERROR` when the body is larger
 */
async function readCockpitBody(response: Response, maxBytes: number): Promise<string> {
  const length = response.headers.get('content-length')
  const declared = Number(length)
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {})
    throw new CockpitError('UPSTREAM_ERROR', response.status)
  }
  if (!response.body) return ''
  // A declared length within the cap bounds the body (fetch fails a longer one), unless a content coding
  // would inflate it: then it is counted as it is read.
  const coding = response.headers.get('content-encoding')
  if (length !== null && /^\d+$/.test(length) && (coding === null || coding === 'identity')) return response.text()
  const decoder = new TextDecoder()
  let text = ''
  await readCappedChunks(response, maxBytes, (chunk) => {
    text += decoder.decode(chunk, { stream: true })
  })
  return text + decoder.decode()
}

/** Reads a body chunk by chunk, giving up with `UPSTREAM_ERROR` past `maxBytes`; resolves its size. */
async function readCappedChunks(response: Response, maxBytes: number, onChunk: (chunk: Uint8Array) => void): Promise<number> {
  const reader = response.body!.getReader()
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return size
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw new CockpitError('UPSTREAM_ERROR', response.status)
    }
    onChunk(value)
  }
}

/**
 * Reads a body as bytes, giving up past `maxBytes` (like {@link readCockpitBody}).
 * @param response the fetch response
 * @param maxBytes the cap
 * @throws CockpitError `UPSTREAM_ERROR` when the body is larger
 */
async function readCockpitBytes(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (Number(response.headers.get('content-length')) > maxBytes || !response.body) {
    await response.body?.cancel().catch(() => {})
    if (!response.body) return new Uint8Array(0)
    throw new CockpitError('UPSTREAM_ERROR', response.status)
  }
  const chunks: Uint8Array[] = []
  const size = await readCappedChunks(response, maxBytes, chunk => chunks.push(chunk))
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

/**
 * A random pause length in `[0, max)` ms, from `crypto.getRandomValues` (available on every target runtime).
 * @param max the bound in ms
 */
function cockpitJitter(max: number): number {
  if (!(max > 0)) return 0
  const buffer = new Uint32Array(1)
  crypto.getRandomValues(buffer)
  return (buffer[0]! / 2 ** 32) * max
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function positiveOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}
