import type { Storage } from 'unstorage'
import { normalizeKey } from 'unstorage'
import { readEntry, refundGcra, stepGcra } from './gcra'
import type { GcraMode, GcraStep } from './gcra'
import { RateLimitStoreError } from './store-error'

// Other drivers: read, compute and write under a per-key lock of this process.

const keyLocks = new WeakMap<object, Map<string, Promise<void>>>()

/** Runs `task` after every earlier task of the same scope and key; the lock disappears when idle. */
export function withKeyLock<T>(scope: object, key: string, task: () => Promise<T>): Promise<T> {
  let locks = keyLocks.get(scope)
  if (!locks) keyLocks.set(scope, locks = new Map())
  const scopeLocks = locks
  const run = (scopeLocks.get(key) ?? Promise.resolve()).then(task)
  const tail = run.then(() => {}, () => {})
  scopeLocks.set(key, tail)
  void tail.then(() => {
    if (scopeLocks.get(key) === tail) scopeLocks.delete(key)
  })
  return run
}

/** Runs one store call; any failure becomes a RateLimitStoreError (no key or URL in it). */
export async function storeCall<T>(call: () => Promise<T> | T): Promise<T> {
  try {
    return await call()
  }
  catch (error) {
    throw new RateLimitStoreError(error)
  }
}

/** One GCRA step on any unstorage driver: read, compute, write (the caller holds the key's lock). */
export async function gcraInStorage(storage: Storage, key: string, limit: number, windowMs: number, cost: number, now: number, mode: GcraMode): Promise<GcraStep> {
  let entry = readEntry(await storeCall(() => storage.getItem(key)))
  if (entry && entry.expiresAt <= now) entry = null
  const step = mode === 'refund' ? refundGcra(entry, now, limit, windowMs, cost) : stepGcra(entry, now, limit, windowMs, cost)
  if (mode === 'peek') return step
  // An absent or expired entry always admits (cost ≤ limit), so this write also replaces stale ones.
  const next = step.next
  if (next) {
    // Some stores (Cloudflare KV) refuse a TTL under 60 s; the entry's own expiresAt is what counts.
    const ttl = Math.max(60, Math.ceil((next.expiresAt - now) / 1000))
    await storeCall(() => storage.setItem(key, next, { ttl }))
  }
  else if (mode === 'refund' && entry) {
    await storeCall(() => storage.removeItem(key))
  }
  return step
}

/** How often, at most, the expired entries of one namespace are swept. */
export const SWEEP_INTERVAL_MS = 60_000
const nextSweeps = new WeakMap<object, Map<string, number>>()

/** The key's mount base plus its first segment: one namespace per policy, so few sweeps. */
export function sweepNamespace(mountBase: string, relativeKey: string): string {
  const colon = relativeKey.indexOf(':')
  return normalizeKey(colon === -1 ? mountBase : mountBase + relativeKey.slice(0, colon))
}

/** Drops the namespace's expired entries (GCRA and backoff alike), at most once per interval per scope. */
export async function sweepIfDue(storage: Storage, scope: object, namespace: string, now: number): Promise<void> {
  let sweeps = nextSweeps.get(scope)
  if (!sweeps) nextSweeps.set(scope, sweeps = new Map())
  const due = sweeps.get(namespace)
  if (due !== undefined && now < due) return
  // Claimed before the first await, so concurrent requests do not sweep twice.
  sweeps.set(namespace, now + SWEEP_INTERVAL_MS)
  const keys = await storeCall(() => storage.getKeys(namespace))
  for (const key of keys) {
    // Under the key's lock, so a sweep never deletes an entry a concurrent consume just wrote.
    await withKeyLock(scope, key, async () => {
      // GCRA and backoff entries alike carry their own expiresAt.
      const expiresAt = readExpiresAt(await storeCall(() => storage.getItem(key)))
      if (expiresAt !== undefined && expiresAt <= now) await storeCall(() => storage.removeItem(key))
    })
  }
}

function readExpiresAt(value: unknown): number | undefined {
  if (!value || typeof value !== 'object') return undefined
  const { expiresAt } = value as Record<string, unknown>
  return typeof expiresAt === 'number' && Number.isFinite(expiresAt) ? expiresAt : undefined
}
