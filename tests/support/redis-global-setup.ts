import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getRandomPort } from 'get-port-please'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/**
 * Gives the tests a real Redis: the one in `TEST_REDIS_URL` (what `.ci/run` starts), or a
 * `redis-server` started here on a free loopback port and stopped by its PID afterwards.
 */
export default async function setup(project: TestProject) {
  if (process.env.TEST_REDIS_URL) {
    project.provide('redisUrl', process.env.TEST_REDIS_URL)
    return
  }
  const port = await getRandomPort('127.0.0.1')
  const dir = mkdtempSync(join(tmpdir(), 'cg-redis-'))
  const pidfile = join(dir, 'redis.pid')
  const started = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--save', '', '--appendonly', 'no', '--pidfile', pidfile, '--dir', dir])
  if (started.status !== 0) throw new Error('redis-server could not start: install it (apt-get install redis-server) or set TEST_REDIS_URL')
  for (let i = 0; i < 50 && !existsSync(pidfile); i++) await new Promise(r => setTimeout(r, 100))
  project.provide('redisUrl', `redis://127.0.0.1:${port}`)
  return () => {
    if (existsSync(pidfile)) {
      const pid = Number(readFileSync(pidfile, 'utf8').trim())
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM')
        }
        catch { /* already gone */ }
      }
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
