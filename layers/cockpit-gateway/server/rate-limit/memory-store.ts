import type { Driver } from 'unstorage'
import { readEntry, refundGcra, stepGcra } from './gcra'
import type { GcraMode, GcraStep } from './gcra'
import { SWEEP_INTERVAL_MS } from './storage-store'

// unstorage's memory driver: its Map, read and written in one synchronous step, which is atomic in
// JavaScript, so no lock, no promise and no serialisation per request. The entry is stored as the object
// itself, which `storage.getItem` returns unchanged.

/** An unstorage `memory` driver, whose instance is the Map it keeps entries in. */
export type MemoryDriver = Driver & { getInstance: () => Map<string, unknown> }

/** Whether the driver is unstorage's `memory` driver, whose Map can be read and written in one step. */
export function isMemoryDriver(driver: Driver): driver is MemoryDriver {
  return driver?.name === 'memory' && typeof driver.getInstance === 'function' && driver.getInstance() instanceof Map
}

/** One GCRA step on the memory driver's Map, synchronously (atomic in JavaScript). */
export function gcraInMemory(map: Map<string, unknown>, relativeKey: string, limit: number, windowMs: number, cost: number, now: number, mode: GcraMode): GcraStep {
  sweepMapIfDue(map, relativeKey, now)
  let entry = readEntry(map.get(relativeKey))
  if (entry && entry.expiresAt <= now) entry = null
  const step = mode === 'refund' ? refundGcra(entry, now, limit, windowMs, cost) : stepGcra(entry, now, limit, windowMs, cost)
  if (mode === 'peek') return step
  if (step.next) map.set(relativeKey, step.next)
  else if (mode === 'refund' && entry) map.delete(relativeKey)
  return step
}

const nextMapSweeps = new WeakMap<Map<string, unknown>, Map<string, number>>()

/** Drops the expired entries of the key's namespace (its first segment), at most once a minute per namespace. */
function sweepMapIfDue(map: Map<string, unknown>, relativeKey: string, now: number): void {
  const colon = relativeKey.indexOf(':')
  const namespace = colon === -1 ? '' : relativeKey.slice(0, colon + 1)
  let sweeps = nextMapSweeps.get(map)
  if (!sweeps) nextMapSweeps.set(map, sweeps = new Map())
  const due = sweeps.get(namespace)
  if (due !== undefined && now < due) return
  sweeps.set(namespace, now + SWEEP_INTERVAL_MS)
  for (const [key, value] of map) {
    if (!key.startsWith(namespace)) continue
    const entry = readEntry(value)
    if (entry && entry.expiresAt <= now) map.delete(key)
  }
}
