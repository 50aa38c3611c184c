import type { H3Event } from 'h3'
import { LRUCache } from 'lru-cache'
import { isCockpitError } from '../cockpit/cockpit-errors'
import { useGatewayConfig } from '../config/gateway-config'
import { useGatewayStorage } from '../storage/gateway-storage'
import { isGatewayStoreDown } from '../storage/gateway-store-breaker'

/** A cached answer as stored: the response body, already serialised, so a hit is sent as stored. */
interface CacheEntry {
  body: string
  storedAt: number
  generation: string
}

/**
 * How a cached read was answered: fresh from cache, fetched, stale while refreshing, stale because Cockpit
 * failed, or fetched uncached because the cache store itself failed.
 */
export type CockpitCacheStatus = 'hit' | 'miss' | 'stale' | 'stale-error' | 'bypass'

/** Upstream failures that a stale copy may paper over; anything else (404, 403…) is the truth. */
const OUTAGE_CODES = new Set(['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_ERROR', 'UPSTREAM_BUSY', 'UPSTREAM_CIRCUIT_OPEN'])

/** A Cockpit outage, whether the fetcher threw the client's error or already mapped it to an h3 error. */
function isOutage(error: unknown): boolean {
  const code = isCockpitError(error) ? error.code : (error as { data?: { code?: unknown } } | null)?.data?.code
  return typeof code === 'string' && OUTAGE_CODES.has(code)
}

// The hot copy of recent answers in this process, in front of the configured cache store (memory by
// default, Redis for several instances): a hit costs one map lookup, no store round trip and no JSON
// parse. Bounded by count and by bytes.
const hot = new LRUCache<string, CacheEntry>({ max: 1000, maxSize: 32 * 1024 * 1024, sizeCalculation: entry => entry.body.length + 64 })

// Strict single flight: at most one upstream call per key and instance at any moment, whether for a
// cold miss or a background refresh (Nitro's cached handlers let dozens through on one expiry). The hot
// copy is updated in the same tick the call ends, before the flight is forgotten, so a request that saw
// the old entry can never start a second call for the same expiry.
const inflight = new Map<string, Promise<string>>()

// Each model's cache generation as this instance last read it from the store; re-read at most once per
// `cache.invalidationCheckInterval`, so an invalidation by another instance is seen within that bound.
// `seq` orders reads and invalidations: a read that started before this instance's own invalidation
// ended must not put the older generation back.
const generations = new Map<string, { value: string, checkedAt: number, seq: number }>()
const generationReads = new Map<string, Promise<string>>()
let generationSeq = 0

let storeDown = false

/** Logs a cache-store outage once per incident, and its end; never the driver's error (it may name the store's address). */
function noteCacheStore(up: boolean): void {
  if (up !== storeDown) return
  storeDown = !up
  if (up) console.info('[cockpit-gateway] cache store back; public reads cached again')
  else console.error('[cockpit-gateway] cache store unavailable; public reads are cached in this instance only until it is back')
}

function currentGeneration(model: string, recheckAfter: number): string | Promise<string> {
  const known = generations.get(model)
  if (known) {
    if (Date.now() - known.checkedAt < recheckAfter) return known.value
    // While the store is down nobody can publish a newer generation through it: the last one read stands.
    if (isGatewayStoreDown('cache')) {
      noteCacheStore(false)
      return known.value
    }
  }
  let read = generationReads.get(model)
  if (!read) {
    read = (async () => {
      const seq = ++generationSeq
      try {
        const value = String((await useGatewayStorage('cache').getItem<string>(`gen:${model}`)) ?? '0')
        noteCacheStore(true)
        const current = generations.get(model)
        if ((current?.seq ?? 0) < seq) generations.set(model, { value, checkedAt: Date.now(), seq })
        return current && current.seq > seq ? current.value : value
      }
      finally {
        generationReads.delete(model)
      }
    })()
    generationReads.set(model, read)
  }
  return read
}

function isEntry(value: unknown): value is CacheEntry {
  const entry = value as CacheEntry | null
  return !!entry && typeof entry.body === 'string' && typeof entry.storedAt === 'number' && typeof entry.generation === 'string'
}

/** One upstream call per flight key at a time; the answer is kept under `storageKey` unless it is null. */
function fetchOnce(event: H3Event, flightKey: string, generation: string, storageKey: string | null, fetcher: () => Promise<string>, ttl: number): Promise<string> {
  let flight = inflight.get(flightKey)
  if (!flight) {
    flight = (async () => {
      try {
        const body = await fetcher()
        if (storageKey) {
          const entry: CacheEntry = { body, storedAt: Date.now(), generation }
          hot.set(storageKey, entry)
          // A good answer is not thrown away because the store could not keep it.
          const write = useGatewayStorage('cache').setItem(storageKey, entry, { ttl }).catch(() => noteCacheStore(false))
          event.waitUntil?.(write)
        }
        return body
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
 * down. Concurrent misses share one upstream call. Writes and the webhook invalidate a model at once on
 * this instance, and within `cache.invalidationCheckInterval` on instances sharing the store. When the
 * cache store fails (Redis down), the read that finds out goes to Cockpit uncached (status `bypass`), like
 * the read rate limit, which fails open; until the store is back (see gateway-store-breaker) this
 * instance's hot copy is the cache, with the last generation it read, and the store is not waited on.
 * Only for reads that do not depend on the session.
 * @param event the request (for `waitUntil` of background work)
 * @param model model name (the invalidation unit)
 * @param key what identifies the read within the model (normalised query)
 * @param fetcher the upstream read, resolving the response body as it will be sent
 */
export async function getCachedCockpitRead(event: H3Event, model: string, key: string, fetcher: () => Promise<string>): Promise<{ body: string, status: CockpitCacheStatus }> {
  const { cache } = useGatewayConfig(event)
  const storageKey = `entry:${model}:${key}`
  let generation: string
  let entry: CacheEntry | undefined
  let previous: CacheEntry | undefined
  try {
    generation = await currentGeneration(model, cache.invalidationCheckInterval)
    previous = entry = hot.get(storageKey)
    if (entry?.generation !== generation && isGatewayStoreDown('cache')) {
      // The store is down: this instance's hot copy is the cache until it is back (no wait on the store).
      noteCacheStore(false)
      entry = undefined
    }
    else if (entry?.generation !== generation) {
      const stored = await useGatewayStorage('cache').getItem(storageKey)
      noteCacheStore(true)
      if (isEntry(stored)) {
        previous = stored
        if (stored.generation === generation) hot.set(storageKey, entry = stored)
        else entry = undefined
      }
      else {
        entry = undefined
      }
    }
  }
  catch {
    noteCacheStore(false)
    return { body: await fetchOnce(event, `bypass:${storageKey}`, '', null, fetcher, 0), status: 'bypass' }
  }
  const flightKey = `${generation}:${storageKey}`
  const ttl = cache.maxAge + cache.staleMaxAge
  const age = entry ? (Date.now() - entry.storedAt) / 1000 : Infinity
  if (entry && age <= cache.maxAge) return { body: entry.body, status: 'hit' }
  if (entry && age <= ttl) {
    event.waitUntil?.(fetchOnce(event, flightKey, generation, storageKey, fetcher, ttl).catch(() => {}))
    return { body: entry.body, status: 'stale' }
  }
  try {
    return { body: await fetchOnce(event, flightKey, generation, storageKey, fetcher, ttl), status: 'miss' }
  }
  catch (error) {
    // After an invalidation the previous generation's copy is still the best we have while Cockpit is down.
    if (previous && isOutage(error) && (Date.now() - previous.storedAt) / 1000 <= ttl) {
      return { body: previous.body, status: 'stale-error' }
    }
    throw error
  }
}

/**
 * Drops every cached read of a model: at once on this instance, and on every instance sharing the store
 * at its next generation check.
 * @param model model name
 */
export async function invalidateCockpitModelCache(model: string): Promise<void> {
  const value = crypto.randomUUID()
  generations.set(model, { value, checkedAt: Date.now(), seq: ++generationSeq })
  await useGatewayStorage('cache').setItem(`gen:${model}`, value)
}
