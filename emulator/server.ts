import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { App } from 'h3'
import { toNodeListener } from 'h3'
import { rememberRequestBody } from './request'

/** One request as it reached the emulator. */
export interface RecordedRequest {
  method: string
  /** Path without the query string. */
  path: string
  /** The query string with its `?`, or `''`. */
  search: string
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>
  /** The raw body, when there was one. */
  body?: string
  /** `Date.now()` when the request was complete. */
  at: number
}

/**
 * A simulated outage: `down` destroys the socket without answering, `status` answers every call
 * with that status and an empty body, `delay` answers normally after `ms`.
 */
export type EmulatorFault = null | { kind: 'down' } | { kind: 'status', status: number } | { kind: 'delay', ms: number }

/** What the server consults on every request. */
export interface ServerHooks {
  record(request: RecordedRequest): void
  getFault(): EmulatorFault
}

/** A node server that reads each body, records the request, applies the fault, then runs the h3 app. */
export interface EmulatorServer {
  server: Server
  /** Cancels delayed answers and closes every connection. */
  close(): Promise<void>
}

/** Wraps the app in a node server with recording and fault injection. */
export function createEmulatorServer(app: App, hooks: ServerHooks): EmulatorServer {
  const listener = toNodeListener(app)
  const pendingDelays = new Set<NodeJS.Timeout>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('error', () => { /* the client went away mid-body: nothing to answer */ })
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = raw.toString('utf8')
      rememberRequestBody(req, body)
      // h3's readMultipartFormData reads this instead of the consumed stream (binary uploads)
      Object.assign(req, { rawBody: raw })
      hooks.record(toRecord(req, body))
      const fault = hooks.getFault()
      if (fault?.kind === 'down') {
        req.socket.destroy()
        return
      }
      if (fault?.kind === 'status') {
        res.statusCode = fault.status
        res.end()
        return
      }
      if (fault?.kind === 'delay') {
        const timer = setTimeout(() => {
          pendingDelays.delete(timer)
          if (!res.destroyed) void listener(req, res)
        }, fault.ms)
        pendingDelays.add(timer)
        return
      }
      void listener(req, res)
    })
  })
  return {
    server,
    close: () => new Promise((resolve, reject) => {
      for (const timer of pendingDelays) clearTimeout(timer)
      pendingDelays.clear()
      server.close(error => (error ? reject(error) : resolve()))
      server.closeAllConnections()
    }),
  }
}

function toRecord(req: IncomingMessage, body: string): RecordedRequest {
  const url = new URL(req.url ?? '/', 'http://emulator.invalid')
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return {
    method: req.method ?? 'GET',
    path: url.pathname,
    search: url.search,
    headers,
    ...(body ? { body } : {}),
    at: Date.now(),
  }
}
