import { connect, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'

/**
 * What the proxy does to the next exchange:
 * - `pass`: a plain TCP relay;
 * - `down`: stops listening, so a connect is refused (`ECONNREFUSED`: nothing is sent);
 * - `refuse`: accepts each connection and closes it at once (what was written may have been read);
 * - `stall`: takes the request and never answers;
 * - `reset`: relays the first `resetAfter` bytes of the answer (the status line and part of the body), then resets;
 * - `garbage`: answers with bytes that are not HTTP;
 * - `drip`: relays the answer one byte every `dripMs` ms.
 */
export type FaultMode = 'pass' | 'down' | 'refuse' | 'stall' | 'reset' | 'garbage' | 'drip'

/** A TCP fault proxy in front of one upstream, on 127.0.0.1. */
export interface FaultProxy {
  url: string
  /**
   * Switches the mode; connections already open are cut, as a network fault would. Resolves once the port
   * listens again or, for `down`, no longer does.
   */
  setMode: (mode: FaultMode) => Promise<void>
  close: () => Promise<void>
}

/**
 * Starts a fault proxy relaying to `upstream` (an `http://127.0.0.1:port` URL).
 * @param upstream the real server
 * @param options.resetAfter bytes of the answer passed on before a reset. @default 60
 * @param options.dripMs pause between bytes in `drip` mode. @default 200
 */
export async function startFaultProxy(upstream: string, options: { resetAfter?: number, dripMs?: number } = {}): Promise<FaultProxy> {
  const target = new URL(upstream)
  const resetAfter = options.resetAfter ?? 60
  const dripMs = options.dripMs ?? 200
  let mode: FaultMode = 'pass'
  const open = new Set<Socket>()
  const timers = new Set<ReturnType<typeof setInterval>>()

  const server: Server = createServer((client) => {
    open.add(client)
    client.on('close', () => open.delete(client))
    client.on('error', () => {})
    const current = mode
    if (current === 'refuse') return void client.destroy()
    if (current === 'stall') return void client.resume()
    if (current === 'garbage') {
      client.once('data', () => client.end(Buffer.from('\x00\xFF\x13garbage that is not HTTP\r\n\r\n\x7F')))
      return
    }
    const server = connect(Number(target.port), target.hostname)
    open.add(server)
    server.on('close', () => {
      open.delete(server)
      client.destroy()
    })
    server.on('error', () => client.destroy())
    client.on('close', () => server.destroy())
    client.pipe(server)
    if (current === 'pass') return void server.pipe(client)
    if (current === 'reset') {
      let sent = 0
      server.on('data', (chunk: Buffer) => {
        const room = resetAfter - sent
        if (room > 0) client.write(chunk.subarray(0, room))
        sent += chunk.length
        if (sent >= resetAfter) {
          client.resetAndDestroy()
          server.destroy()
        }
      })
      return
    }
    // drip
    const pending: number[] = []
    server.on('data', (chunk: Buffer) => pending.push(...chunk))
    const timer = setInterval(() => {
      const byte = pending.shift()
      if (byte !== undefined && client.writable) client.write(Buffer.of(byte))
    }, dripMs)
    timers.add(timer)
    client.on('close', () => {
      clearInterval(timer)
      timers.delete(timer)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    async setMode(next) {
      const wasDown = mode === 'down'
      mode = next
      for (const socket of open) socket.destroy()
      if (next === 'down' && !wasDown) await new Promise(resolve => server.close(resolve))
      // The same port again: the gateway under test keeps its configured URL.
      if (next !== 'down' && wasDown) await new Promise<void>(resolve => server.listen(port, '127.0.0.1', resolve))
    },
    async close() {
      for (const timer of timers) clearInterval(timer)
      for (const socket of open) socket.destroy()
      if (mode !== 'down') await new Promise(resolve => server.close(resolve))
    },
  }
}
