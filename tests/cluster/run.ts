// `npm run test:cluster`: three instances of the built demo (the build `scripts/build-demo.ts` made, in
// `.output` or `DEMO_OUTPUT_DIR`) sharing one Redis without persistence, behind Debian's nginx, against the
// embedded Cockpit emulator over HTTP. Proves through nginx what a scaled-out deployment relies on: exact
// limits with forged X-Forwarded-For ignored, logout everywhere, cache invalidation on every instance,
// a rolling restart under load that loses nothing (Nitro's graceful shutdown), and a Redis restart
// under load (reads answer, logins and writes fail closed, revocation survives the empty store).
// Prints PASS/FAIL per step and exits non-zero when any step failed. Every process is stopped by PID.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { getRandomPort } from 'get-port-please'
import Redis from 'ioredis'
import { startEmulator, SEED_V2 } from '../../emulator/index'
import type { RunningEmulator } from '../../emulator/index'
import { findLeaks, GENEROUS_LIMITS, startGateway, TestBrowser } from '../support/gateway-server'
import type { RecordedExchange, RunningGateway } from '../support/gateway-server'
import { ClusterNginx, ClusterRedis, eventually, killOwnedProcesses, ownProcess, releaseProcess, sleep } from './processes'
import { median } from '../support/wait'

const LIST = '/api/cockpit/items/posts'
const READY = '/api/cockpit/health/ready'
const EDITOR = ['editor', 'editor-pass-123'] as const
const GUEST = ['guest', 'guest-pass-123'] as const
/** The documented bounds (defaults of the generous cluster): revocation and cache generation re-read at most this late. */
const CHECK_INTERVAL_MS = 1000
/** Slack on top of a bound, for a noisy 2-core machine: the assertion is about the bound, not speed. */
const SLACK_MS = 1500
/** Nitro's drain bound (`NITRO_SHUTDOWN_TIMEOUT`, default 30 s) plus slack: an instance must exit within it. */
const DRAIN_BOUND_MS = 35_000

const LOGIN_LIMIT = 10
const READ_LIMIT = 30
/** Small limits for the limit checks; windows long enough that nothing is given back during a burst. */
const STRICT_ENV = {
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_LIMIT: String(LOGIN_LIMIT),
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_LOGIN_USER_LIMIT: '1000',
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_LIMIT: String(READ_LIMIT),
  NUXT_COCKPIT_GATEWAY_RATE_LIMIT_READ_WINDOW: '3000',
  // 0: every request reads the store, so "refused on the next request" is exact, not "within 1 s".
  NUXT_COCKPIT_GATEWAY_AUTH_REVOCATION_CHECK_INTERVAL: '0',
}
/** Limits no load loop reaches; revocation and cache intervals at their defaults (1 s). */
interface StepResult { name: string, ok: boolean, ms: number, error?: string }
const results: StepResult[] = []
const exchanges: RecordedExchange[] = []
const everyInstance: RunningGateway[] = []
const runStarted = performance.now()

/** Runs one check; a failure is recorded and the run goes on (later steps start from a fresh state where they need one). */
async function step(name: string, body: () => Promise<void>): Promise<void> {
  const started = performance.now()
  try {
    await body()
    const ms = performance.now() - started
    results.push({ name, ok: true, ms })
    console.log(`PASS  ${name} (${(ms / 1000).toFixed(1)} s)`)
  }
  catch (error) {
    const ms = performance.now() - started
    const message = error instanceof Error ? error.message : String(error)
    results.push({ name, ok: false, ms, error: message })
    console.log(`FAIL  ${name} (${(ms / 1000).toFixed(1)} s)\n      ${message.replace(/\n/g, '\n      ')}`)
  }
}

/** The same cookies in a browser pointed at another server (a load balancer's next pick, or a stolen copy). */
async function sessionRole(browser: TestBrowser): Promise<string | undefined> {
  const response = await browser.request('/api/_auth/session')
  assert.equal(response.status, 200, `session read answered ${response.status}`)
  return response.json().user?.role
}

async function loggedIn(target: { url: string, origin: string }, [username, password]: readonly [string, string]): Promise<TestBrowser> {
  const browser = new TestBrowser(target as RunningGateway, exchanges)
  await browser.login(username, password)
  return browser
}

/** The posts in the emulator's store with this title prefix, counted by title (read with the admin key). */
async function storedTitles(emulator: RunningEmulator, prefix: string): Promise<Map<string, number>> {
  const response = await fetch(`${emulator.url}/api/content/items/posts`, { headers: { 'api-key': SEED_V2.keys.full } })
  assert.equal(response.status, 200)
  const counts = new Map<string, number>()
  for (const item of await response.json() as Array<{ title?: string }>) {
    if (item.title?.startsWith(prefix)) counts.set(item.title, (counts.get(item.title) ?? 0) + 1)
  }
  return counts
}

/**
 * One request on a connection of its own (no keep-alive): a load client must not lose a request to a
 * kept-alive connection that nginx closes while it reloads, which would be the client's failure, not the cluster's.
 */
function sendOnce(url: string, init: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<{ status: number, text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', chunk => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')))
    req.on('error', reject)
    req.end(init.body)
  })
}

/** A bounded load loop: runs `once` until stopped, `maxCount` iterations or `maxMs`, recording failures. */
interface LoadLoop {
  name: string
  count: number
  failures: string[]
  done: Promise<void>
}

function startLoop(name: string, stopped: () => boolean, once: (n: number) => Promise<string | undefined>, maxCount = 4000, maxMs = 120_000): LoadLoop {
  const loop: LoadLoop = { name, count: 0, failures: [], done: Promise.resolve() }
  const deadline = Date.now() + maxMs
  loop.done = (async () => {
    while (!stopped() && loop.count < maxCount && Date.now() < deadline) {
      const n = loop.count++
      try {
        const failure = await once(n)
        if (failure) loop.failures.push(`${name}#${n}: ${failure}`)
      }
      catch (error) {
        loop.failures.push(`${name}#${n}: ${error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error)}`)
      }
    }
  })()
  return loop
}

async function main(): Promise<void> {
  const emulator = await startEmulator({ version: 2, port: 0 })
  const redis = new ClusterRedis(await getRandomPort('127.0.0.1'))
  const ports: number[] = []
  while (ports.length < 3) {
    const port = await getRandomPort('127.0.0.1')
    if (!ports.includes(port)) ports.push(port)
  }
  const nginx = new ClusterNginx(await getRandomPort('127.0.0.1'), ports.map(port => `127.0.0.1:${port}`))
  const instances: Array<RunningGateway | undefined> = [undefined, undefined, undefined]
  let cleaning: Promise<void> | undefined
  const cleanup = () => cleaning ??= (async () => {
    await nginx.dispose().catch(() => {})
    await Promise.allSettled(instances.map(instance => instance?.stop()))
    await redis.dispose().catch(() => {})
    await emulator.close().catch(() => {})
  })()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`cluster: ${signal}, stopping`)
      void cleanup().finally(() => process.exit(130))
    })
  }

  /** Starts instance `i` on its fixed port and waits until it answers and is ready. */
  async function startInstance(i: number, env: Record<string, string>): Promise<RunningGateway> {
    const instance = await startGateway({
      version: 2,
      emulator,
      port: ports[i],
      env: { NUXT_COCKPIT_GATEWAY_REDIS_URL: redis.url, NUXT_COCKPIT_GATEWAY_TRUST_PROXY: '1', ...env },
    })
    ownProcess(instance.pid)
    void instance.exited.then(() => releaseProcess(instance.pid))
    instances[i] = instance
    everyInstance.push(instance)
    assert.ok(await eventually(async () => (await fetch(`${instance.url}${READY}`)).status === 200), `instance ${i} not ready`)
    return instance
  }

  /** SIGTERM by PID, wait for the exit within the drain bound (Nitro's graceful shutdown), clean up its dir. */
  async function stopInstance(i: number): Promise<void> {
    const instance = instances[i]
    if (!instance) return
    process.kill(instance.pid, 'SIGTERM')
    const exited = await Promise.race([instance.exited.then(() => true), sleep(DRAIN_BOUND_MS).then(() => false)])
    await instance.stop()
    instances[i] = undefined
    assert.ok(exited, `instance ${i} did not exit within ${DRAIN_BOUND_MS} ms of SIGTERM`)
  }

  const running = (i: number): RunningGateway => {
    const instance = instances[i]
    assert.ok(instance, `instance ${i} is not running`)
    return instance
  }
  const edge = { url: nginx.url, origin: nginx.url } as RunningGateway

  try {
    await redis.start()
    await Promise.all([0, 1, 2].map(i => startInstance(i, STRICT_ENV)))
    await nginx.start()
    console.log(`cluster: emulator ${emulator.url}, redis :${redis.port}, instances :${ports.join(' :')}, nginx ${nginx.url}`)

    await step('logout and logout-everywhere are refused by every instance on the next request', async () => {
      const editor = await loggedIn(edge, EDITOR)
      const stolen = [0, 1, 2].map(i => editor.copy(running(i)))
      for (const copy of stolen) assert.equal(await sessionRole(copy), 'editor')
      assert.equal((await editor.request('/api/auth/logout', { json: {} })).status, 204)
      for (const [i, copy] of stolen.entries()) assert.equal(await sessionRole(copy), undefined, `instance ${i} still accepts a logged-out cookie`)
      assert.equal(await sessionRole(stolen[0]!.copy(edge)), undefined)

      const first = await loggedIn(edge, EDITOR)
      const second = await loggedIn(edge, EDITOR)
      const copies = [first, second].flatMap(browser => [0, 1, 2].map(i => browser.copy(running(i))))
      for (const copy of copies) assert.equal(await sessionRole(copy), 'editor')
      assert.equal((await first.request('/api/auth/logout-all', { json: {} })).status, 204)
      for (const copy of copies) assert.equal(await sessionRole(copy), undefined, `${copy.gateway.url} still accepts a cookie revoked by logout-everywhere`)
      // The refusal is a 401 with the stable code on a write, not just an empty session.
      const write = await second.copy(edge).request(LIST, { json: { title: 'written with a revoked cookie', published: true } })
      assert.equal(write.status, 401)
      assert.equal(write.json().data?.code, 'SESSION_EXPIRED')
    })

    await step(`read limit through nginx: exactly ${READ_LIMIT} of ${5 * READ_LIMIT} anonymous reads, forged X-Forwarded-For ignored`, async () => {
      const statuses = await Promise.all(Array.from({ length: 5 * READ_LIMIT }, async (_, n) => {
        const response = await fetch(`${nginx.url}${LIST}`, { headers: { 'x-forwarded-for': `203.0.113.${n % 250}, 198.51.100.${n % 7}` } })
        await response.arrayBuffer()
        return response.status
      }))
      const ok = statuses.filter(s => s === 200).length
      const limited = statuses.filter(s => s === 429).length
      assert.deepEqual({ ok, limited }, { ok: READ_LIMIT, limited: 4 * READ_LIMIT }, `statuses: ${JSON.stringify(statuses)}`)
    })

    await step(`login limit through nginx: exactly ${LOGIN_LIMIT} of ${5 * LOGIN_LIMIT} failed logins admitted, forged X-Forwarded-For ignored`, async () => {
      const answers = await Promise.all(Array.from({ length: 5 * LOGIN_LIMIT }, async (_, n) => {
        const response = await fetch(`${nginx.url}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'origin': nginx.url, 'x-forwarded-for': `192.0.2.${n}` },
          body: JSON.stringify({ username: `nobody-${n}`, password: 'wrong-password' }),
        })
        const body = await response.json() as { data?: { code?: string } }
        return { status: response.status, code: body.data?.code }
      }))
      const admitted = answers.filter(a => a.status === 401).length
      const limited = answers.filter(a => a.status === 429 && a.code === 'RATE_LIMITED').length
      assert.deepEqual({ admitted, limited }, { admitted: LOGIN_LIMIT, limited: 4 * LOGIN_LIMIT }, `answers: ${JSON.stringify(answers)}`)
    })

    // The rest runs with limits no load reaches and the default (1 s) revocation and cache intervals.
    await Promise.all([0, 1, 2].map(i => stopInstance(i)))
    const flush = new Redis(redis.url, { maxRetriesPerRequest: 1 })
    try {
      await flush.flushall()
    }
    finally {
      flush.disconnect()
    }
    await Promise.all([0, 1, 2].map(i => startInstance(i, GENEROUS_LIMITS)))

    await step(`a write's cache invalidation shows on every instance within ${CHECK_INTERVAL_MS} ms (+${SLACK_MS} ms slack)`, async () => {
      const readers = [0, 1, 2].map(i => new TestBrowser(running(i), exchanges))
      // Each instance holds the list in its cache (the second read is a hit).
      for (const reader of readers) {
        for (let n = 0; n < 2; n++) assert.equal((await reader.request(`${LIST}?limit=100`)).status, 200)
      }
      const editor = await loggedIn(edge, EDITOR)
      const title = `invalidation-${Date.now()}`
      const created = await editor.request(LIST, { json: { title, published: true } })
      assert.equal(created.status, 201)
      const acknowledged = performance.now()
      const seenAfter = await Promise.all(readers.map(async (reader) => {
        let seen = -1
        await eventually(async () => {
          const response = await reader.request(`${LIST}?limit=100`)
          if (response.status === 200 && response.text.includes(title)) seen = performance.now() - acknowledged
          return seen >= 0
        }, CHECK_INTERVAL_MS + SLACK_MS, 50)
        return Math.round(seen)
      }))
      console.log(`      seen on each instance after ${seenAfter.join(' / ')} ms`)
      for (const [i, ms] of seenAfter.entries()) assert.ok(ms >= 0, `instance ${i} still served the old list ${CHECK_INTERVAL_MS + SLACK_MS} ms after the write`)
    })

    await step('graceful shutdown: an in-flight slow request completes after SIGTERM; new connections are refused meanwhile', async () => {
      const instance = running(0)
      const editor = await loggedIn(instance, EDITOR)
      const before = emulator.requests.length
      emulator.setFault({ kind: 'delay', ms: 2000 })
      let responded = 0
      let exitedAt = 0
      try {
        // A logged-in editor's list is not served from the cache: it waits on the slow Cockpit.
        const slow = editor.request(`${LIST}?limit=5`).then((response) => {
          responded = performance.now()
          return response
        })
        assert.ok(await eventually(() => emulator.requests.length > before, 5000, 20), 'the slow request never reached the emulator')
        process.kill(instance.pid, 'SIGTERM')
        void instance.exited.then(() => exitedAt = performance.now())
        await sleep(300)
        // Draining: the listener is closed, so nginx's next connection is refused and goes elsewhere.
        const refused = await fetch(`${instance.url}${READY}`).then(() => false, () => true)
        assert.ok(refused, 'a draining instance still accepted a new connection')
        const response = await slow
        assert.equal(response.status, 200, `the in-flight request was answered ${response.status}`)
        assert.ok(response.text.includes('"title"'), 'the in-flight request got no list')
        assert.ok(await Promise.race([instance.exited.then(() => true), sleep(DRAIN_BOUND_MS).then(() => false)]), 'no exit after the drain')
        assert.ok(exitedAt >= responded, 'the process exited before answering')
      }
      finally {
        emulator.setFault(null)
        await instance.stop()
        instances[0] = undefined
        await startInstance(0, GENEROUS_LIMITS)
      }
    })

    await step('rolling restart under read and write load: 0 failed requests, every acknowledged write stored exactly once', async () => {
      const editor = await loggedIn(edge, EDITOR)
      const cookie = editor.cookieHeader()
      const prefix = `rolling-${Date.now()}-`
      const acknowledged: string[] = []
      let stop = false
      const stopped = () => stop
      const loops = [
        startLoop('anonymous read', stopped, async () => {
          const response = await sendOnce(`${nginx.url}${LIST}`)
          return response.status === 200 ? undefined : `status ${response.status}`
        }),
        startLoop('editor read', stopped, async () => {
          const response = await sendOnce(`${nginx.url}${LIST}`, { headers: { cookie } })
          return response.status === 200 ? undefined : `status ${response.status}`
        }),
        ...[0, 1].map(w => startLoop(`write ${w}`, stopped, async (n) => {
          const title = `${prefix}${w}-${n}`
          const response = await sendOnce(`${nginx.url}${LIST}`, {
            method: 'POST',
            headers: { cookie, 'origin': nginx.url, 'content-type': 'application/json' },
            body: JSON.stringify({ title, published: true }),
          })
          if (response.status !== 201) return `status ${response.status} ${response.text.slice(0, 120)}`
          acknowledged.push(title)
        }, 1500)),
      ]
      try {
        await sleep(500)
        // The procedure docs/deploy.md gives: out of nginx, SIGTERM, wait for the exit, start, wait ready, back in.
        for (const i of [0, 1, 2]) {
          await nginx.setDown([nginx.upstreams[i]!])
          await stopInstance(i)
          await startInstance(i, GENEROUS_LIMITS)
          await nginx.setDown([])
          await sleep(500)
        }
      }
      finally {
        stop = true
        await Promise.all(loops.map(loop => loop.done))
      }
      console.log(`      ${loops.map(loop => `${loop.name}: ${loop.count}`).join(', ')}; ${acknowledged.length} writes acknowledged`)
      const failures = loops.flatMap(loop => loop.failures)
      assert.deepEqual(failures, [], `nginx: ${nginx.upstreamErrors()}`)
      for (const loop of loops) assert.ok(loop.count >= 10, `${loop.name} made only ${loop.count} requests: no load`)
      const stored = await storedTitles(emulator, prefix)
      const wrong = acknowledged.filter(title => stored.get(title) !== 1).map(title => `${title} × ${stored.get(title) ?? 0}`)
      assert.deepEqual(wrong, [], 'acknowledged writes not stored exactly once')
      assert.equal(stored.size, acknowledged.length, 'writes stored that were never acknowledged')
    })

    await step('Redis restart under load: reads answer at healthy latency, logins and writes fail closed, revocation survives the empty store', async () => {
      const pids = [0, 1, 2].map(i => running(i).pid)
      // Revoked before the restart: refused everywhere (after the revocation interval), and must stay so.
      const revoker = await loggedIn(edge, EDITOR)
      const revoked = await loggedIn(edge, EDITOR)
      assert.equal((await revoker.request('/api/auth/logout-all', { json: {} })).status, 204)
      await sleep(CHECK_INTERVAL_MS + 100)
      for (const i of [0, 1, 2]) assert.equal(await sessionRole(revoked.copy(running(i))), undefined, `instance ${i} accepts a revoked cookie before the restart`)
      const writer = await loggedIn(edge, EDITOR)

      // Healthy latency is measured before the outage and again after the recovery, so that a load change
      // on a shared machine during the run weighs on both sides of the comparison.
      type Phase = 'healthy' | 'down' | 'back' | 'healthy again'
      let phase = 'healthy' as Phase
      const latencies: Record<Phase, number[]> = { 'healthy': [], 'down': [], 'back': [], 'healthy again': [] }
      let stop = false
      const readers = [0, 1].map(r => startLoop(`public read ${r}`, () => stop, async () => {
        const at = phase
        const started = performance.now()
        const response = await fetch(`${nginx.url}${LIST}`)
        await response.arrayBuffer()
        if (r === 0) latencies[at].push(performance.now() - started)
        return response.status === 200 ? undefined : `status ${response.status} while ${at}`
      }, 6000))
      try {
        assert.ok(await eventually(() => latencies.healthy.length >= 100, 30_000, 20), 'too few healthy reads')

        await redis.stop()
        phase = 'down'
        const writesBefore = emulator.requests.filter(r => r.method !== 'GET').length
        for (const i of [0, 1, 2]) {
          const login = await new TestBrowser(running(i), exchanges).request('/api/auth/login', { json: { username: EDITOR[0], password: EDITOR[1] } })
          assert.equal(login.status, 503, `instance ${i}: a login while Redis is down answered ${login.status}`)
          assert.equal(login.json().data?.code, 'RATE_LIMIT_UNAVAILABLE')
        }
        // Past the revocation interval: the session check needs the store too.
        await sleep(CHECK_INTERVAL_MS + 100)
        for (const i of [0, 1, 2]) {
          const write = await writer.copy(running(i)).request(LIST, { json: { title: 'written while Redis is down', published: true } })
          assert.equal(write.status, 503, `instance ${i}: a write while Redis is down answered ${write.status}`)
          assert.equal(write.json().data?.code, 'SESSION_STORE_UNAVAILABLE')
        }
        assert.equal(emulator.requests.filter(r => r.method !== 'GET').length, writesBefore, 'something was written while Redis was down')
        for (const i of [0, 1, 2]) assert.ok(await eventually(async () => (await fetch(`${running(i).url}${READY}`)).status === 503, 5000), `instance ${i} still reports ready`)
        assert.ok(await eventually(() => latencies.down.length >= 100, 30_000, 20), 'too few reads while down')

        await redis.start()
        phase = 'back'
        // No instance restarted: each reconnects and admits logins again.
        for (const i of [0, 1, 2]) {
          assert.ok(await eventually(async () => (await new TestBrowser(running(i), exchanges).request('/api/auth/login', { json: { username: GUEST[0], password: GUEST[1] } })).status === 200), `instance ${i} did not recover`)
        }
        assert.deepEqual([0, 1, 2].map(i => running(i).pid), pids, 'an instance was restarted')
        // Every instance has seen the new (empty) store by now; the cookie revoked before stays refused (the epoch).
        await sleep(CHECK_INTERVAL_MS + 100)
        for (const i of [0, 1, 2]) assert.equal(await sessionRole(revoked.copy(running(i))), undefined, `instance ${i} accepts the revoked cookie again after the empty restart`)
        const fresh = await loggedIn(edge, EDITOR)
        const created = await fresh.request(LIST, { json: { title: `after-redis-restart-${Date.now()}`, published: true } })
        assert.equal(created.status, 201)
        for (const i of [0, 1, 2]) assert.ok(await eventually(async () => (await fetch(`${running(i).url}${READY}`)).status === 200, 5000), `instance ${i} not ready again`)
        phase = 'healthy again'
        assert.ok(await eventually(() => latencies['healthy again'].length >= 100, 30_000, 20), 'too few reads after the recovery')
      }
      finally {
        stop = true
        await Promise.all(readers.map(loop => loop.done))
      }
      const healthy = median([...latencies.healthy, ...latencies['healthy again']])
      const down = median(latencies.down)
      console.log(`      public read median: ${healthy.toFixed(1)} ms healthy (${median(latencies.healthy).toFixed(1)} before, ${median(latencies['healthy again']).toFixed(1)} after), ${down.toFixed(1)} ms while Redis was down (${latencies.healthy.length + latencies['healthy again'].length} / ${latencies.down.length} reads)`)
      assert.deepEqual(readers.flatMap(loop => loop.failures), [])
      assert.ok(down <= 2 * healthy, `median read while down ${down.toFixed(1)} ms > 2 × healthy ${healthy.toFixed(1)} ms`)
    })

    await step('no secret in any response or log line, no stack trace in the logs', async () => {
      const secrets = [...new Set(everyInstance.flatMap(instance => instance.secrets))]
      const logs = everyInstance.flatMap(instance => instance.logs)
      assert.deepEqual(findLeaks(secrets, exchanges, logs), [])
      assert.doesNotMatch(logs.join(''), /^\s+at\s/m)
    })
  }
  finally {
    await cleanup()
  }
}

process.on('exit', killOwnedProcesses)
try {
  await main()
}
catch (error) {
  results.push({ name: 'set-up', ok: false, ms: 0, error: error instanceof Error ? error.message : String(error) })
  console.log(`FAIL  set-up: ${error instanceof Error ? error.message : String(error)}`)
}
const failed = results.filter(result => !result.ok)
// For `npm test`'s closing line (scripts/test-summary.mjs).
if (process.env.CLUSTER_REPORT) writeFileSync(process.env.CLUSTER_REPORT, JSON.stringify({ passed: results.length - failed.length, failed: failed.length, steps: results }))
console.log(`cluster: ${results.length - failed.length} passed, ${failed.length} failed (${((performance.now() - runStarted) / 1000).toFixed(0)} s)`)
process.exit(failed.length ? 1 : 0)
