import { createError } from 'h3'
import type { Driver } from 'unstorage'
import { useStorage } from 'nitropack/runtime'
import { getRedisEntryKey } from '../storage/redis-key'
import { guardGatewayStoreCall } from '../storage/gateway-store-breaker'

/** The part of an ioredis client the write guarantees use. */
export interface StateRedisClient {
  set: (key: string, value: string, ...args: (string | number)[]) => Promise<string | null>
  get: (key: string) => Promise<string | null>
  eval: (script: string, numKeys: number, ...args: string[]) => Promise<unknown>
}

/** A key of the `state` area as the Redis client addresses it directly. */
export interface StateRedisKey {
  client: StateRedisClient
  redisKey: string
}

/**
 * The Redis client and key behind a `state` key, when the `state` area is on unstorage's `redis` driver
 * (then claims and locks are atomic across instances with `SET NX`); `undefined` on any other store, which
 * is one instance's own, where an in-process mutex makes them atomic.
 * @param key a key of the `state` area
 */
export function getStateRedisKey(key: string): StateRedisKey | undefined {
  const mount = useStorage().getMount(`cockpit-gateway:state:${key}`)
  const driver = mount?.driver as Driver | undefined
  if (driver?.name !== 'redis' || typeof driver.getInstance !== 'function' || mount.base !== 'cockpit-gateway:state:') return undefined
  return { client: driver.getInstance() as StateRedisClient, redisKey: getRedisEntryKey(driver, key) }
}

/**
 * Runs a direct Redis call on the `state` area through its breaker (a store known down is not waited on).
 * @param call the call
 */
export function callStateRedis<T>(call: () => Promise<T>): Promise<T> {
  return guardGatewayStoreCall('state', call)
}

/** The state store failed: a write guarantee cannot be kept, so the write is refused (fail closed). */
export function stateStoreUnavailable(): Error {
  return createError({ statusCode: 503, statusMessage: 'State store unavailable', data: { code: 'SESSION_STORE_UNAVAILABLE' } })
}

const queues = new Map<string, Promise<unknown>>()

/**
 * Runs `task` after every earlier task of the same key in this process has settled: an in-process mutex.
 * @param key what is serialised
 * @param task the work
 */
export function runSerialised<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve()
  const run = previous.then(task, task)
  const tail = run.catch(() => {})
  queues.set(key, tail)
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key)
  })
  return run
}

/**
 * A SHA-256 of `text`, hex, for store keys made of client input (an idempotency key, a user id).
 * @param text what to hash
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  // join, not `+=`: these strings are kept as keys of bounded in-memory records, and `+=` would keep a
  // tree of 63 string pieces (about 1.6 KB) per 64-character key where join makes one flat string.
  return Array.from(digest, byte => HEX_BYTES[byte]).join('')
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
