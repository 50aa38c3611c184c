import { useStorage } from 'nitropack/runtime'

/**
 * With `redisUrl` set, every gateway storage area moves to Redis at start-up, so several instances share
 * exact rate limits, cache and revocation state. The driver is loaded only then, so runtimes without
 * TCP sockets (Workers) never import it.
 */
export default defineNitroPlugin(async () => {
  const { redisUrl } = useGatewayConfig()
  if (!redisUrl) return
  const { default: redisDriver } = await import('unstorage/drivers/redis')
  const storage = useStorage()
  for (const area of ['rate-limit', 'cache', 'state'] as const) {
    const mountPoint = `cockpit-gateway:${area}`
    await storage.unmount(mountPoint, true).catch(() => {})
    storage.mount(mountPoint, redisDriver({ url: redisUrl, base: `cockpit-gateway:${area}`, lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 1000 }))
  }
  console.info('[cockpit-gateway] storage: Redis (rate limits, cache, session state)')
})
