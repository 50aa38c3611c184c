// Child processes and temp dirs of the benchmark: every one is tracked, stopped by its PID (a signal, then
// SIGKILL after a bound) and removed, also when the bench throws or is interrupted.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A process started by the bench. */
export interface BenchProcess {
  name: string
  pid: number
  child: ChildProcess
  /** Everything it printed, for the error message when it fails. */
  output: string[]
  /** Resolves once it has exited. */
  exited: Promise<void>
  /** Sends `signal` (default SIGTERM), then SIGKILL when it has not exited within `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>
}

const running = new Set<BenchProcess>()
const tempDirs = new Set<string>()

/**
 * Starts `command args` with exactly `env` (plus PATH and HOME), output captured.
 * @param name shown in errors
 * @param command executable
 * @param args its arguments
 * @param options env and working directory
 * @param options.env the process env
 * @param options.cwd working directory (default: this one)
 * @param options.stopSignal the signal `stop()` sends by default (SIGINT lets `--cpu-prof` write its profile)
 */
export function startProcess(name: string, command: string, args: string[], options: { env: Record<string, string>, cwd?: string, stopSignal?: NodeJS.Signals }): BenchProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const output: string[] = []
  child.stdout!.on('data', chunk => output.push(String(chunk)))
  child.stderr!.on('data', chunk => output.push(String(chunk)))
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  const proc: BenchProcess = {
    name,
    pid: child.pid ?? 0,
    child,
    output,
    exited,
    async stop(signal = options.stopSignal ?? 'SIGTERM', graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal)
        let timer: NodeJS.Timeout | undefined
        await Promise.race([exited, new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs)
        })])
        clearTimeout(timer)
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL')
          await exited
        }
      }
      running.delete(proc)
    },
  }
  if (!child.pid) throw new Error(`${name} could not be started`)
  running.add(proc)
  return proc
}

/**
 * Runs a process to its end; rejects with its output when it fails.
 * @param name shown in errors
 * @param command executable
 * @param args its arguments
 * @param env its env
 */
export async function runProcess(name: string, command: string, args: string[], env: Record<string, string>): Promise<void> {
  const proc = startProcess(name, command, args, { env })
  await proc.exited
  running.delete(proc)
  if (proc.child.exitCode !== 0) throw new Error(`${name} failed (exit ${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.output.join('').slice(-4000)}`)
}

/**
 * Waits until `probe` resolves true (the server answers), failing early if the process exits.
 * @param proc the server process
 * @param probe one readiness check
 * @param timeoutMs bound
 */
export async function waitUntilReady(proc: BenchProcess, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${proc.name} exited early:\n${proc.output.join('').slice(-4000)}`)
    try {
      if (await probe()) return
    }
    catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${proc.name} did not start within ${timeoutMs} ms:\n${proc.output.join('').slice(-4000)}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/**
 * A new temp dir, removed by {@link cleanUp}.
 * @param prefix its name's start
 */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

/** Stops every process still running (in parallel, each bounded) and removes every temp dir. */
export async function cleanUp(): Promise<void> {
  await Promise.all([...running].map(proc => proc.stop()))
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

/** Clock ticks per second of /proc's utime/stime (`getconf CLK_TCK` is 100 on Linux). */
export const CLK_TCK = 100

/**
 * CPU time (user + system) a process has used so far, in µs, from `/proc/<pid>/stat`.
 * @param pid the process
 */
export function readCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start at field 3 (state); utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / CLK_TCK
}

/**
 * Resident set size of a process in bytes, from `/proc/<pid>/status` (VmRSS).
 * @param pid the process
 */
export function readRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!match) throw new Error(`no VmRSS for pid ${pid}`)
  return Number(match[1]) * 1024
}
