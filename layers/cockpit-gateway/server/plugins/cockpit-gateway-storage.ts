import { useStorage } from 'nitropack/runtime'
import type { GatewayStorageArea } from '../storage/gateway-storage'
import { setGatewayStoreConnected } from '../storage/gateway-store-breaker'
import { useGatewayConfig } from '../config/gateway-config'
import { resetGatewayStorageViews } from '../storage/gateway-storage'
import { durableObjectDriver } from '../rate-limit/durable-driver'

/**
 * With `redisUrl` set, every gateway storage area moves to Redis at start-up, so several instances share
 * exact rate limits, cache and revocation state. The driver is loaded only then, so runtimes without
 * TCP sockets (Workers) never import it.
 */
export default defineNitroPlugin(async () => {
  const { redisUrl, durableObjectBinding } = useGatewayConfig()
  if (durableObjectBinding) {
    mountDurableObjectStore(durableObjectBinding)
    return
  }
  if (!redisUrl) {
    warnIfStateIsVolatile()
    return
  }
  const { default: redisDriver } = await import('unstorage/drivers/redis')
  const storage = useStorage()
  for (const area of ['rate-limit', 'cache', 'state'] as const) {
    const mountPoint = `cockpit-gateway:${area}`
    await storage.unmount(mountPoint, true).catch(() => {})
    // A dead Redis fails fast through maxRetriesPerRequest (its queued commands are dropped after one failed
    // reconnect). commandTimeout only bounds a Redis that accepts but never answers: it is measured on this
    // process's event loop, so a short one fires spuriously under a burst (1 s did at 250 concurrent requests)
    // and would let the burst past the read limit, or refuse logins, exactly when limits matter.
    const driver = redisDriver({ url: redisUrl, base: `cockpit-gateway:${area}`, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 5000 })
    watchRedisConnection(driver.getInstance?.() as RedisEvents | undefined, area)
    storage.mount(mountPoint, driver)
  }
  resetGatewayStorageViews()
  console.info('[cockpit-gateway] storage: Redis (rate limits, cache, session state)')
})

/**
 * On Cloudflare with `durableObjectBinding` set, rate limits and session state move to the layer's Durable
 * Object (one object per key): exact limits and immediate revocation across isolates. The read cache stays
 * per isolate. Mounted over whatever `nitro.storage` put there (the demo's KV namespace for `state`).
 * @param binding the worker's binding to the `CockpitGatewayState` namespace
 */
function mountDurableObjectStore(binding: string): void {
  const storage = useStorage()
  for (const area of ['rate-limit', 'state'] as const) {
    const mountPoint = `cockpit-gateway:${area}`
    // Without dispose, unmount completes before its first await: the mount below is in place before any
    // request (a plugin's promise is not awaited), and the memory and KV drivers hold nothing to dispose of.
    void storage.unmount(mountPoint, false)
    storage.mount(mountPoint, durableObjectDriver({ binding, base: area }))
  }
  resetGatewayStorageViews()
  console.info('[cockpit-gateway] storage: Durable Object (rate limits, session state); cache per isolate')
}

/**
 * Session revocation and owner records must outlive the process. Without a driver at
 * `cockpit-gateway:state` they go to Nitro's `data` mount, which only file-system presets have: on Workers
 * they would silently stay in one isolate's memory.
 */
function warnIfStateIsVolatile(): void {
  if (import.meta.prerender) return
  const storage = useStorage()
  if (storage.getMount('cockpit-gateway:state:').base || storage.getMount('data:').base) return
  console.warn('[cockpit-gateway] storage: no `data` mount on this runtime, so session revocation and owner records stay in this instance\'s memory; mount a persistent driver at cockpit-gateway:state (e.g. a KV namespace on Workers)')
}

interface RedisEvents {
  on(event: 'error', listener: (error: Error & { code?: string }) => void): unknown
  on(event: 'ready' | 'close', listener: () => void): unknown
}

/**
 * Without an `error` listener, ioredis prints every failed reconnect with its stack ("Unhandled error
 * event"), many lines a second while Redis is down. One line per outage instead, with the error code only
 * (its message names the address); the rate limiter and the cache log their own fail-open/closed once.
 */
function watchRedisConnection(client: RedisEvents | undefined, area: GatewayStorageArea): void {
  if (!client) return
  let down = false
  client.on('error', (error) => {
    setGatewayStoreConnected(area, false)
    if (down) return
    down = true
    console.error(`[cockpit-gateway] Redis connection for ${area} failed (${error.code ?? error.name}); retrying`)
  })
  // Lost and not ready again: the area's calls fail at once (see gateway-store-breaker) instead of each
  // waiting for ioredis' reconnect, which keeps retrying on its own.
  client.on('close', () => setGatewayStoreConnected(area, false))
  client.on('ready', () => {
    down = false
    setGatewayStoreConnected(area, true)
  })
}
