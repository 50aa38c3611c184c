import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { getRandomPort } from 'get-port-please'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The leak guard end to end, on a deliberately leaky fixture app (tests/fixtures/leaky): a build that would
// publish a secret fails and says where, without printing the secret; a server whose public config gets a
// secret from the env refuses to start.

const ROOT = resolve(__dirname, '../..')
const FIXTURE = join(ROOT, 'tests/fixtures/leaky')
const READ_KEY = 'API-leaktest0000000000000000000000000000000'
const SESSION_PASSWORD = 'leaktest-session-password-0123456789abcdef'
const BUILD_TIMEOUT = 300_000

/** The runner's env without anything that would change the fixture's build (NUXT_*, vitest's test mode). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(NUXT_|NITRO_|LEAKY_|VITEST|TEST$|NODE_ENV$)/.test(name)))
  return { ...env, NUXT_COCKPIT_READ_KEY: READ_KEY, NUXT_SESSION_PASSWORD: SESSION_PASSWORD, ...extra }
}

function buildFixture(extra: Record<string, string> = {}) {
  const result = spawnSync('npx', ['nuxt', 'build', FIXTURE], { cwd: ROOT, env: cleanEnv(extra), encoding: 'utf8', timeout: BUILD_TIMEOUT })
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` }
}

function removeBuild() {
  for (const dir of ['.nuxt', '.output', 'node_modules', 'dist']) rmSync(join(FIXTURE, dir), { recursive: true, force: true })
}

/** Starts the fixture's built server; resolves when it listens or exits, and stops it by its PID. */
async function startFixtureServer(extra: Record<string, string>) {
  const port = await getRandomPort('127.0.0.1')
  const child = spawn(process.execPath, [join(FIXTURE, '.output/server/index.mjs')], { env: cleanEnv({ ...extra, PORT: String(port), HOST: '127.0.0.1' }), stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise<{ code: number | null, listening: boolean, output: string }>((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    const onData = (chunk: Buffer) => {
      output += chunk
      if (output.includes('Listening on')) {
        clearTimeout(timer)
        child.kill('SIGTERM')
        done({ code: null, listening: true, output })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      done({ code, listening: false, output })
    })
  })
}

describe('leak guard', () => {
  beforeAll(removeBuild)
  afterAll(removeBuild)

  it('fails the build before building when runtimeConfig.public holds a secret', () => {
    const { status, output } = buildFixture({ LEAKY_PUBLIC_BANNER: `Welcome ${READ_KEY}` })
    expect(status).not.toBe(0)
    expect(output).toContain('runtimeConfig.public.siteBanner holds the value of NUXT_COCKPIT_READ_KEY')
    expect(output).not.toContain(READ_KEY)
    expect(output).not.toContain(SESSION_PASSWORD)
    // Caught at setup: nothing was built.
    expect(existsSync(join(FIXTURE, '.output'))).toBe(false)
  }, BUILD_TIMEOUT)

  describe('a prerendered page that renders a private value', () => {
    let build: ReturnType<typeof buildFixture>
    beforeAll(() => {
      build = buildFixture()
    }, BUILD_TIMEOUT)

    it('fails the build, naming each file and the setting but never the value', () => {
      expect(build.status).not.toBe(0)
      expect(build.output).toContain('.output/public/index.html: NUXT_COCKPIT_READ_KEY')
      expect(build.output).toContain('.output/public/_payload.json: NUXT_COCKPIT_READ_KEY')
      expect(build.output).not.toContain(READ_KEY)
      expect(build.output).not.toContain(SESSION_PASSWORD)
      // The guard reported a real leak: the page does hold the key.
      expect(readFileSync(join(FIXTURE, '.output/public/index.html'), 'utf8')).toContain(READ_KEY)
    })

    it('refuses to start the server when an env var puts a secret into the public config', async () => {
      const refused = await startFixtureServer({ NUXT_PUBLIC_SITE_BANNER: `Welcome ${READ_KEY}` })
      expect(refused.listening).toBe(false)
      expect(refused.code).not.toBe(0)
      expect(refused.output).toContain('runtimeConfig.public.siteBanner holds the value of NUXT_COCKPIT_READ_KEY')
      expect(refused.output).not.toContain(READ_KEY)

      // The same server starts when the public config is clean, so the check is what stopped it.
      const started = await startFixtureServer({})
      expect(started.listening).toBe(true)
    })
  })
})
