import type { ChildProcess } from 'node:child_process'

/** Waits `ms` milliseconds. */
export const sleep = (ms: number) => new Promise<void>(r => setTimeout(r, ms))

/**
 * Polls `check` until it is true (a throw counts as not yet); false when `ms` passed first.
 * @param check the condition
 * @param ms the bound
 * @param every the polling period
 */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 15_000, every = 100): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      if (await check()) return true
    }
    catch { /* not yet */ }
    if (Date.now() > deadline) return false
    await sleep(every)
  }
}

/**
 * The median of some numbers.
 * @param values at least one
 */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/**
 * Sends SIGTERM to a child and waits for its exit; SIGKILL after `ms`.
 * @param child the process
 * @param ms how long it may take to exit on SIGTERM
 * @returns whether it exited on SIGTERM
 */
export async function terminate(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  const exited = new Promise(r => child.once('exit', r))
  child.kill('SIGTERM')
  const clean = await Promise.race([exited.then(() => true), sleep(ms).then(() => false)])
  if (!clean) {
    child.kill('SIGKILL')
    await exited
  }
  return clean
}
