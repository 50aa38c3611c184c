import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { sleep, terminate } from './wait'

/**
 * Whether a Redis answers `PING` on a loopback port (a raw socket: no client library, no reconnects).
 * @param port the port
 */
export function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    socket.setTimeout(500, () => socket.destroy())
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += String(chunk)
      if (reply.includes('+PONG')) {
        socket.destroy()
        resolve(true)
      }
    })
    socket.on('error', () => resolve(false))
    socket.on('close', () => resolve(false))
  })
}

/**
 * A redis-server of a test's own: no persistence, started and stopped by its PID, restartable on the same port
 * (it then comes back empty, as a Redis without persistence does after a restart).
 */
export class TestRedis {
  private child: ChildProcess | undefined
  private readonly dir = mkdtempSync(join(tmpdir(), 'cg-test-redis-'))

  /**
   * @param port its port on 127.0.0.1
   * @param track told of each process started and gone (e.g. a runner that kills what it owns on exit)
   * @param track.started called with the PID after each start
   * @param track.exited called with the PID when that process exits
   */
  constructor(readonly port: number, private readonly track: { started?: (pid?: number) => void, exited?: (pid?: number) => void } = {}) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Whether it answers `PING`. */
  answers(): Promise<boolean> {
    return redisAnswers(this.port)
  }

  /**
   * Starts it; resolves whether it answered within `timeoutMs`.
   * @param timeoutMs how long to wait for the first `PONG`
   */
  async start(timeoutMs = 10_000): Promise<boolean> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' })
    this.child = child
    this.track.started?.(child.pid)
    child.once('exit', () => this.track.exited?.(child.pid))
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (await this.answers()) return true
      await sleep(100)
    }
    return false
  }

  /** Stops it by its PID (SIGTERM, SIGKILL after 5 s) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child) await terminate(child, 5000)
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
