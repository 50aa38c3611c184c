import type { H3Event } from 'h3'
import { isCockpitError } from './cockpit-errors'
import { useGatewayConfig } from './gateway-config'
import { useGatewayStorage } from './gateway-storage'

interface CacheEntry<T> {
  value: T
  storedAt: number
  generation: string
}

/**
 * How a cached read was answered: fresh from cache, fetched, stale while refreshing, stale because Cockpit
 * failed, or fetched uncached because the cache store itself failed.
 */
export type CockpitCacheStatus = 'hit' | 'miss' | 'stale' | 'stale-error' | 'bypass'

/** Upstream failures that a stale copy may paper over; anything else (404, 403…) is the truth. */
const OUTAGE_CODES = new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_ERROR'])

/** A Cockpit outage, whether the fetcher threw the client's error or already mapped it to an h3 error. */
function isOutage(error: unknown): boolean {
  const code = isCockpitError(error) ? error.code : (error as { data?: { code?: unknown } } | null)?.data?.code
  return typeof code === 'string' && OUTAGE_CODES.has(code)
}

// Strict single flight: at most one upstream call per key and instance at any moment, whether for a
// cold miss or a background refresh (Nitro's cached handlers let dozens through on one expiry).
const inflight = new Map<string, Promise<unknown>>()

let storeDown = false

/** Logs a cache-store outage once per incident, and its end; never the driver's error (it may name the store's address). */
function noteCacheStore(up: boolean): void {
  if (up !== storeDown) return
  storeDown = !up
  if (up) console.info('[cockpit-gateway] cache store back; public reads cached again')
  else console.error('[cockpit-gateway] cache store unavailable; public reads go to Cockpit uncached until it is back')
}

async function readGeneration(model: string): Promise<string> {
  return (await useGatewayStorage('cache').getItem<string>(`gen:${model}`)) ?? '0'
}

/** One upstream call per flight key at a time; the answer is stored under `storageKey` unless it is null. */
function fetchOnce<T>(flightKey: string, generation: string, storageKey: string | null, fetcher: () => Promise<T>, staleMaxAge: number): Promise<T> {
  let flight = inflight.get(flightKey) as Promise<T> | undefined
  if (!flight) {
    flight = (async () => {
      try {
        const value = await fetcher()
        if (storageKey) {
          const entry: CacheEntry<T> = { value, storedAt: Date.now(), generation }
          // A good answer is not thrown away because the cache could not keep it.
          try {
            await useGatewayStorage('cache').setItem(storageKey, entry, { ttl: staleMaxAge })
          }
          catch {
            noteCacheStore(false)
          }
        }
        return value
      }
      finally {
        inflight.delete(flightKey)
      }
    })()
    inflight.set(flightKey, flight)
  }
  return flight
}

/**
 * A shared, cached public read with stale-while-revalidate: fresh for `cache.maxAge` seconds, then served
 * stale while one background call refreshes it, and served stale (status `stale-error`) when Cockpit is
 * down. Concurrent misses share one upstream call. Writes and the webhook invalidate a model at once.
 * When the cache store fails (Redis down), reads go to Cockpit uncached (status `bypass`), like the read
 * rate limit, which fails open. Only for reads that do not depend on the session.
 * @param event the request (for `waitUntil` of background refreshes)
 * @param model model name (the invalidation unit)
 * @param key what identifies the read within the model (normalised query)
 * @param fetcher the upstream read
 */
export async function getCachedCockpitRead<T>(event: H3Event, model: string, key: string, fetcher: () => Promise<T>): Promise<{ value: T, status: CockpitCacheStatus }> {
  const { cache } = useGatewayConfig(event)
  const storage = useGatewayStorage('cache')
  const storageKey = `entry:${model}:${key}`
  let generation: string
  let entry: CacheEntry<T> | null
  try {
    generation = await readGeneration(model)
    entry = await storage.getItem<CacheEntry<T>>(storageKey)
  }
  catch {
    noteCacheStore(false)
    return { value: await fetchOnce(`bypass:${storageKey}`, '', null, fetcher, 0), status: 'bypass' }
  }
  noteCacheStore(true)
  const flightKey = `${generation}:${storageKey}`
  const usable = entry && entry.generation === generation ? entry : null
  const age = usable ? (Date.now() - usable.storedAt) / 1000 : Infinity
  if (usable && age <= cache.maxAge) return { value: usable.value, status: 'hit' }
  if (usable && age <= cache.maxAge + cache.staleMaxAge) {
    const refresh = fetchOnce(flightKey, generation, storageKey, fetcher, cache.maxAge + cache.staleMaxAge).catch(() => {})
    event.waitUntil?.(refresh)
    return { value: usable.value, status: 'stale' }
  }
  try {
    return { value: await fetchOnce(flightKey, generation, storageKey, fetcher, cache.maxAge + cache.staleMaxAge), status: 'miss' }
  }
  catch (error) {
    // After an invalidation the previous generation's copy is still the best we have while Cockpit is down.
    if (entry && isOutage(error) && (Date.now() - entry.storedAt) / 1000 <= cache.maxAge + cache.staleMaxAge) {
      return { value: entry.value, status: 'stale-error' }
    }
    throw error
  }
}

/**
 * Drops every cached read of a model (all instances sharing the store see it at their next read).
 * @param model model name
 */
export async function invalidateCockpitModelCache(model: string): Promise<void> {
  await useGatewayStorage('cache').setItem(`gen:${model}`, crypto.randomUUID())
}
