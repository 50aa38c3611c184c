import { CockpitError } from './cockpit-errors'
import type { CockpitClientHooks, CockpitClientOptions } from './cockpit-types'

/** Per-call timeout when the options give none, in ms. */
export const COCKPIT_DEFAULT_TIMEOUT = 5000

/** Jitter bound of the single read retry when the options give none, in ms. */
export const COCKPIT_DEFAULT_RETRY_DELAY = 200

/** Largest upstream body the client reads before giving up with `UPSTREAM_ERROR` (16 MiB). */
export const COCKPIT_DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024

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
  /** One retry, after a random 0..retryDelay ms pause, on a network error, 502 or 503. Only for idempotent reads. @default false */
  retry?: boolean
}

/** What came back: the status and the (small, capped) body text, never passed on as is. */
export interface CockpitHttpResponse {
  status: number
  headers: Headers
  text: string
}

/** Sends one upstream call; rejects only with a {@link CockpitError}, or with a hook's own error. */
export type CockpitHttp = (request: CockpitHttpRequest) => Promise<CockpitHttpResponse>

/**
 * Checks the configured base URL and returns it without query, hash or trailing slash.
 * @param url e.g. `https://cms.example.com` or `https://example.com/cockpit`
 * @throws TypeError with a fixed message (the URL is not quoted) when it is not an http(s) URL
 */
export function normaliseCockpitBaseUrl(url: string): string {
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
 * body read, and no redirects (a redirect could carry the key to another host). Web APIs only, so it
 * runs unchanged on Node, Bun, Deno and Cloudflare Workers.
 * @param options client options (`url`, `timeout`, `retryDelay`, `maxResponseBytes`, `hooks`, `fetch`)
 */
export function createCockpitHttp(options: CockpitClientOptions): CockpitHttp {
  const base = normaliseCockpitBaseUrl(options.url)
  const timeout = positiveOr(options.timeout, COCKPIT_DEFAULT_TIMEOUT)
  const retryDelay = options.retryDelay !== undefined && options.retryDelay >= 0 ? options.retryDelay : COCKPIT_DEFAULT_RETRY_DELAY
  const maxBytes = positiveOr(options.maxResponseBytes, COCKPIT_DEFAULT_MAX_RESPONSE_BYTES)
  const hooks: CockpitClientHooks = options.hooks ?? {}
  // Resolved per call and never called unbound: Workers reject `fetch` detached from globalThis.
  const doFetch: typeof globalThis.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))

  async function attempt(request: CockpitHttpRequest, url: string, body: string | undefined): Promise<CockpitHttpResponse> {
    const { method, operation, model } = request
    const headers = new Headers({ accept: request.accept ?? 'application/json' })
    if (body !== undefined) headers.set('content-type', 'application/json')
    const requestHook = hooks.onRequest?.({ method, operation, model, headers })
    if (requestHook) await requestHook
    for (const name of CREDENTIAL_HEADERS) headers.delete(name)
    try {
      for (const [name, value] of Object.entries(request.secretHeaders ?? {})) headers.set(name, value)
    }
    catch {
      // The Headers TypeError quotes the value: never let it out.
      throw new CockpitError('MISSING_KEY')
    }

    let timedOut = false
    let timer: ReturnType<typeof setTimeout> | undefined
    // Raced as well as given to fetch as its signal, so the bound holds even with a fetch that ignores it.
    const aborted = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true
        reject(new Error('aborted'))
      }, timeout)
    })
    aborted.catch(() => {})
    const started = Date.now()
    let status: number | undefined
    try {
      // The signal aborts the socket at the same bound. Not one from `new AbortController()`: on Node 20, undici
      // keeps about 8 KB per call alive for such a signal that never fires (RSS grew without end in the bench).
      const response = await Promise.race([doFetch(url, { method, headers, body, signal: AbortSignal.timeout(timeout), redirect: 'manual' }), aborted])
      status = response.status
      const text = await Promise.race([readCockpitBody(response, maxBytes), aborted])
      return { status, headers: response.headers, text }
    }
    catch (error) {
      // A fresh error without `cause`: fetch errors name the URL, and some runtimes the address.
      if (timedOut) throw new CockpitError('UPSTREAM_TIMEOUT', status)
      if (error instanceof CockpitError) throw error
      throw new CockpitError('UPSTREAM_UNAVAILABLE', status)
    }
    finally {
      clearTimeout(timer)
      const responseHook = hooks.onResponse?.({ method, operation, model, status, durationMs: Date.now() - started })
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
    for (let n = 1; ; n++) {
      try {
        const response = await attempt(request, url.href, body)
        if (n < attempts && (response.status === 502 || response.status === 503)) {
          await sleep(cockpitJitter(retryDelay))
          continue
        }
        return response
      }
      catch (error) {
        // Timeouts are not retried: a second wait would double the latency the timeout bounds.
        if (n < attempts && error instanceof CockpitError && error.code === 'UPSTREAM_UNAVAILABLE') {
          await sleep(cockpitJitter(retryDelay))
          continue
        }
        throw error
      }
    }
  }
}

/**
 * Reads a body as text, giving up past `maxBytes` so a misbehaving upstream can't exhaust memory.
 * @param response the fetch response
 * @param maxBytes the cap
 * @throws CockpitError `UPSTREAM_ERROR` when the body is larger
 */
export async function readCockpitBody(response: Response, maxBytes: number): Promise<string> {
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
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let size = 0
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw new CockpitError('UPSTREAM_ERROR', response.status)
    }
    text += decoder.decode(value, { stream: true })
  }
  return text + decoder.decode()
}

/**
 * A random pause length in `[0, max)` ms, from `crypto.getRandomValues` (available on every target runtime).
 * @param max the bound in ms
 */
export function cockpitJitter(max: number): number {
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
