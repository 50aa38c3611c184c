import type { Driver } from 'unstorage'
import { joinKeys } from 'unstorage'

/**
 * The Redis key unstorage's `redis` driver uses for an entry: the driver's `base` (trailing `:` dropped)
 * joined with the key relative to its mount. For code that talks to the Redis client directly (a Lua
 * script, `SET NX`) and must hit the same key the driver's own get/set use.
 * @param driver a mounted `redis` driver
 * @param relativeKey the entry's key relative to the driver's mount
 */
export function getRedisEntryKey(driver: Driver, relativeKey: string): string {
  const base = String((driver.options as { base?: string } | undefined)?.base ?? '').replace(/:$/, '')
  return joinKeys(base, relativeKey)
}
