// The processes the cluster run owns besides the gateway instances: Redis and nginx, each a child started
// and stopped by its PID. Every PID is registered so that an exit handler can kill what is left, even
// when the run fails or is interrupted.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestRedis } from '../support/test-redis'
import { eventually, terminate } from '../support/wait'
import { nginxMainConfig } from './nginx-config'

export { eventually, sleep } from '../support/wait'

const owned = new Set<number>()

/**
 * Registers a PID this run started, so that {@link killOwnedProcesses} ends it if nothing else does.
 * @param pid the process id
 */
export function ownProcess(pid: number | undefined): void {
  if (pid) owned.add(pid)
}

/**
 * Forgets a PID whose process has exited.
 * @param pid the process id
 */
export function releaseProcess(pid: number | undefined): void {
  if (pid) owned.delete(pid)
}

/**
 * SIGTERMs every registered process still running (synchronous: usable in an `exit` handler). SIGTERM,
 * not SIGKILL: nginx's master then ends its workers, and a gateway exits after its drain bound.
 */
export function killOwnedProcesses(): void {
  for (const pid of owned) {
    try {
      process.kill(pid, 'SIGTERM')
    }
    catch { /* already gone */ }
  }
  owned.clear()
}

/** Resolves after `ms`. */

/**
 * Whether something accepts TCP connections on a loopback port.
 * @param port the port
 */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.setTimeout(500, () => socket.destroy())
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('close', () => resolve(false))
  })
}

/** Like the shared `terminate`, and the PID is no longer this run's to kill. */
async function terminateOwned(child: ChildProcess, ms: number): Promise<boolean> {
  const clean = await terminate(child, ms)
  releaseProcess(child.pid)
  return clean
}

/** The cluster's redis-server: the shared test one, its processes owned by this run (killed on exit). */
export class ClusterRedis extends TestRedis {
  constructor(port: number) {
    super(port, { started: ownProcess, exited: releaseProcess })
  }

  /** Starts it and waits until it answers. */
  override async start(): Promise<boolean> {
    if (!await super.start(10_000)) throw new Error('redis-server did not start (is it installed?)')
    return true
  }
}

/** The child PIDs of a process (Linux `/proc`). */
function childPids(pid: number): number[] {
  const pids: number[] = []
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
    if (text) pids.push(...text.split(/\s+/).map(Number))
  }
  return pids
}

/** A non-daemon nginx owned by this run, its config, logs and temp files in one directory. */
export class ClusterNginx {
  private child: ChildProcess | undefined
  readonly dir = mkdtempSync(join(tmpdir(), 'cg-cluster-nginx-'))
  readonly output: string[] = []
  constructor(readonly port: number, readonly upstreams: string[]) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  private get confPath(): string {
    return join(this.dir, 'nginx.conf')
  }

  private writeConfig(down: string[]): void {
    const asRoot = process.getuid?.() === 0
    writeFileSync(this.confPath, nginxMainConfig({ dir: this.dir, asRoot, listen: `127.0.0.1:${this.port}`, upstreams: this.upstreams, down }))
  }

  /** Writes the config, starts nginx in the foreground and waits until it accepts connections. */
  async start(): Promise<void> {
    for (const sub of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(this.dir, sub))
    const conf = this.confPath
    this.writeConfig([])
    const binary = process.env.NGINX_BIN ?? '/usr/sbin/nginx'
    const child = spawn(binary, ['-p', this.dir, '-c', conf, '-e', join(this.dir, 'error.log'), '-g', `daemon off; pid ${join(this.dir, 'nginx.pid')};`], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    ownProcess(child.pid)
    child.stdout!.on('data', chunk => this.output.push(String(chunk)))
    child.stderr!.on('data', chunk => this.output.push(String(chunk)))
    const spawnError = new Promise<Error>(resolve => child.once('error', resolve))
    child.once('exit', () => releaseProcess(child.pid))
    const up = await Promise.race([eventually(() => child.exitCode === null && accepts(this.port), 10_000), spawnError])
    if (up !== true) throw new Error(`nginx did not start (${binary}; apt-get install nginx): ${up instanceof Error ? up.message : this.output.join('')}`)
  }

  /**
   * Marks these instances `down` (and every other one up), reloads nginx (SIGHUP) and waits until the
   * reload is done: the old worker has finished its requests and exited, a new one runs the new config.
   * @param addresses `host:port` of the instances to take out
   */
  async setDown(addresses: string[]): Promise<void> {
    const pid = this.child?.pid
    if (!pid) throw new Error('nginx is not running')
    this.writeConfig(addresses)
    const before = childPids(pid)
    process.kill(pid, 'SIGHUP')
    const reloaded = await eventually(() => {
      const now = childPids(pid)
      return now.length > 0 && now.every(child => !before.includes(child))
    }, 10_000, 20)
    if (!reloaded) throw new Error(`nginx did not reload: ${readFileSync(join(this.dir, 'error.log'), 'utf8').slice(-2000)}`)
  }

  /** The last lines of nginx's error log that mention an upstream (for a failure message). */
  upstreamErrors(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').filter(line => line.includes('upstream')).slice(-10).join('\n')
    }
    catch {
      return ''
    }
  }

  /** Stops nginx by its PID (SIGTERM: fast shutdown; its workers go with it). */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child) await terminateOwned(child, 5000)
  }

  /** Stops it and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
