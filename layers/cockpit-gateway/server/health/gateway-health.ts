import type { H3Event } from 'h3'
import type { Driver } from 'unstorage'
import { useStorage } from 'nitropack/runtime'
import { useCockpitClient } from '../cockpit/cockpit'
import { useGatewayConfig } from '../config/gateway-config'
import type { GatewayStorageArea } from '../storage/gateway-storage'
import { guardGatewayStoreCall, isGatewayStoreDown } from '../storage/gateway-store-breaker'

/** How long one readiness answer is reused, ms: a probe storm costs one check per interval, not one per probe. */
const READINESS_TTL = 2000
/** The longest a readiness check waits on a dependency, ms: a hanging one counts as down. */
const CHECK_TIMEOUT = 2500

const REDIS_AREAS: GatewayStorageArea[] = ['rate-limit', 'cache', 'state']

let lastCheck: { ready: boolean, checkedAt: number } | undefined
let running: Promise<boolean> | undefined

function withinTimeout(check: Promise<boolean>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT)
  })
  return Promise.race([check.catch(() => false), timeout]).finally(() => clearTimeout(timer))
}

interface RedisPingClient {
  ping: () => Promise<unknown>
}

/** Whether the Redis connection of one storage area answers a PING; a known-down area is not asked. */
async function redisAreaAnswers(area: GatewayStorageArea): Promise<boolean> {
  if (isGatewayStoreDown(area)) return false
  const driver = useStorage().getMount(`cockpit-gateway:${area}:health`)?.driver as Driver | undefined
  // Another driver mounted over this area (the app's own) is not the gateway's Redis to check.
  if (driver?.name !== 'redis' || typeof driver.getInstance !== 'function') return true
  const client = driver.getInstance() as RedisPingClient
  return guardGatewayStoreCall(area, () => client.ping()).then(() => true, () => false)
}

async function checkReadiness(event: H3Event): Promise<boolean> {
  const checks = [withinTimeout(useCockpitClient(event).health())]
  if (useGatewayConfig(event).redisUrl) checks.push(...REDIS_AREAS.map(area => withinTimeout(redisAreaAnswers(area))))
  const results = await Promise.all(checks)
  return results.every(Boolean)
}

/**
 * Whether this instance can serve: Cockpit answers its health check and, when `redisUrl` is set, every
 * Redis connection of the gateway answers. The answer is reused for 2 s and concurrent probes share one
 * check, so a probe storm cannot hammer Cockpit. Never throws.
 * @param event the request
 */
export async function isGatewayReady(event: H3Event): Promise<boolean> {
  if (lastCheck && Date.now() - lastCheck.checkedAt < READINESS_TTL) return lastCheck.ready
  running ??= checkReadiness(event)
    .catch(() => false)
    .then((ready) => {
      lastCheck = { ready, checkedAt: Date.now() }
      return ready
    })
    .finally(() => {
      running = undefined
    })
  return running
}
