import type { Driver } from 'unstorage'
import { normalizeKey } from 'unstorage'
import { useStorage } from 'nitropack/runtime'
import { getRedisEntryKey } from '../storage/redis-key'
import { useGatewayStorage } from '../storage/gateway-storage'
import { guardGatewayStoreCall } from '../storage/gateway-store-breaker'
import { isDurableDriver } from '../rate-limit/durable-store'
import { isRedisDriver } from '../rate-limit/redis-store'
import type { DurableStateClient } from '../rate-limit/durable-protocol'

// The state store's epoch: a random id kept in the `state` area with no TTL, created when missing.
// Sessions are stamped with it at login. A store that comes back empty (a Redis restart without
// persistence, an eviction, a failover to an empty replica) has lost every revocation; it gets a new
// epoch, so every session issued before the loss ends instead of a revoked one becoming valid again.
const EPOCH_KEY = 'epoch'

let creation: Promise<string> | undefined

function isEpoch(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('e-')
}

/**
 * Reads `key` of the `state` area together with the store's epoch, in one store call (one `MGET` on
 * Redis), and creates the epoch when it is missing.
 * @param key a key of the `state` area
 * @returns the key's value (null when absent) and the current epoch
 * @throws whatever the store throws (`GatewayStoreDownError` while it is known down)
 */
export async function readStateStoreEpoch<T>(key: string): Promise<{ value: T | null, epoch: string }> {
  const entries = await useGatewayStorage('state').getItems([key, EPOCH_KEY])
  const values = new Map(entries.map(entry => [normalizeKey(entry.key), entry.value]))
  const epoch = values.get(EPOCH_KEY)
  return {
    value: (values.get(normalizeKey(key)) ?? null) as T | null,
    epoch: isEpoch(epoch) ? epoch : await createEpoch(),
  }
}

/** One creation at a time in this process; across instances, Redis' `SET NX` (or the epoch's Durable Object) picks one. */
function createEpoch(): Promise<string> {
  creation ??= createEpochOnce().finally(() => {
    creation = undefined
  })
  return creation
}

interface RedisEpochClient {
  set: (key: string, value: string, mode: 'NX') => Promise<unknown>
  get: (key: string) => Promise<string | null>
}

async function createEpochOnce(): Promise<string> {
  const candidate = `e-${crypto.randomUUID()}`
  const mount = useStorage().getMount(`cockpit-gateway:state:${EPOCH_KEY}`)
  const driver = mount?.driver as Driver | undefined
  // Only when the epoch's key is the state area's own mount (not a sub-mount on another driver).
  const ownMount = !!driver && mount.base === 'cockpit-gateway:state:'
  if (ownMount && isRedisDriver(driver)) {
    // Instances racing after a loss must agree on one epoch, or each would end the others' new sessions.
    const redisKey = getRedisEntryKey(driver, EPOCH_KEY)
    const client = driver.getInstance() as RedisEpochClient
    return guardGatewayStoreCall('state', async () => {
      await client.set(redisKey, candidate, 'NX')
      const current = await client.get(redisKey)
      if (!isEpoch(current)) throw new Error('state store epoch not kept')
      return current
    })
  }
  if (ownMount && isDurableDriver(driver)) {
    // The epoch's own Durable Object creates it once: isolates racing on first use agree on one.
    const client = driver.getInstance() as DurableStateClient
    return guardGatewayStoreCall('state', async () => {
      // Stored as unstorage stores a string (as is), so the driver's getItem reads the same value.
      const { value } = await client.call({ op: 'setIfAbsent', key: EPOCH_KEY, value: candidate })
      if (!isEpoch(value)) throw new Error('state store epoch not kept')
      return value
    })
  }
  // Any other store is one instance's own (`data` mount, a KV namespace per deployment): set it if still missing.
  const storage = useGatewayStorage('state')
  const existing = await storage.getItem(EPOCH_KEY)
  if (isEpoch(existing)) return existing
  await storage.setItem(EPOCH_KEY, candidate)
  return candidate
}
