import { createError, setResponseHeader } from 'h3'
import type { H3Event } from 'h3'
import { useGatewayConfig } from '../config/gateway-config'
import { callStateRedis, getStateRedisKey, runSerialised, stateStoreUnavailable } from './state-store'

// Deletes the lock only while it is still ours: after its TTL another writer may hold it.
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/**
 * How long a write may hold an item's lock, ms: the conditional check and the write, each at most a few
 * upstream calls of `cockpit.timeout` (v2 reads before and after an update). A holder that dies frees it then.
 * @param timeout the upstream timeout, ms
 */
export function getItemLockTtl(timeout: number): number {
  return 6 * timeout + 2000
}

function itemBusy(event: H3Event): Error {
  setResponseHeader(event, 'retry-after', 1)
  return createError({ statusCode: 503, statusMessage: 'Item busy', data: { code: 'ITEM_BUSY' } })
}

async function acquireRedisLock(event: H3Event, key: string, token: string, ttl: number): Promise<() => Promise<void>> {
  const target = getStateRedisKey(key)!
  const deadline = Date.now() + ttl
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    let reply: string | null
    try {
      reply = await callStateRedis(() => target.client.set(target.redisKey, token, 'PX', ttl, 'NX'))
    }
    catch {
      throw stateStoreUnavailable()
    }
    if (reply === 'OK') {
      return async () => {
        // A failed release is not an error for the write that already happened: the TTL frees the lock.
        await callStateRedis(() => target.client.eval(RELEASE_SCRIPT, 1, target.redisKey, token)).catch(() => {})
      }
    }
    // Held by a writer on another instance past the time any holder may keep it: something is wrong there.
    if (Date.now() >= deadline) throw itemBusy(event)
    await sleep(pause)
  }
}

/**
 * Runs an update or delete of one item while no other write of that item through the gateway runs: on
 * this instance through an in-process mutex, across instances sharing Redis through a `SET NX PX` lock in
 * the `state` area (released by its token, or by its TTL when the holder died). So an `If-Match` check and
 * the write that follows it are not interleaved with another gateway write of the item; writes made in
 * Cockpit itself are not covered (Cockpit has no conditional update).
 * @param event the request
 * @param model model name
 * @param id item id
 * @param task the check and the write
 * @throws 503 `SESSION_STORE_UNAVAILABLE` when the state store is down; 503 `ITEM_BUSY` when another
 *   instance held the lock longer than its TTL
 */
export function withCockpitItemLock<T>(event: H3Event, model: string, id: string, task: () => Promise<T>): Promise<T> {
  const key = `lock:${model}:${id}`
  return runSerialised(key, async () => {
    if (!getStateRedisKey(key)) return task()
    const release = await acquireRedisLock(event, key, crypto.randomUUID(), getItemLockTtl(useGatewayConfig(event).cockpit.timeout))
    try {
      return await task()
    }
    finally {
      await release()
    }
  })
}
