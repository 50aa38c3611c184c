// GCRA maths, pure: the step every store applies (the Redis script in redis-store.ts mirrors it line for line).
// The TAT is kept as an anchor `at` (integer ms) plus `debt`, an integer count of 1/limit ms ticks,
// so every sum, comparison and division stays exact in doubles (Lua numbers are doubles too).

/** Which limiter call: count, decide without counting, or give units back. */
export type GcraMode = 'consume' | 'peek' | 'refund'

/** What is stored per key, on every driver. The TAT is `at + debt / limit` ms. */
export interface GcraEntry {
  /** When the entry was written, integer ms. */
  at: number
  /** Outstanding ticks (1/limit ms each) at `at`. */
  debt: number
  /** The limit `debt` was counted in; a changed policy rescales it. */
  limit: number
  /** When the bucket is full again and the entry means nothing, ms. */
  expiresAt: number
}

/** The decision of one step, and the entry to write (none: leave the stored one). */
export interface GcraStep {
  allowed: boolean
  remaining: number
  resetMs: number
  retryAfterMs: number
  next?: GcraEntry
}

/** The entry's outstanding ticks at `now`, in the current policy's units. */
function drainedDebt(entry: GcraEntry | null, now: number, limit: number, windowMs: number): number {
  if (!entry) return 0
  let stored = entry.debt
  if (entry.limit !== limit) stored = Math.min(Math.ceil(stored / entry.limit), windowMs) * limit
  stored = Math.min(stored, windowMs * limit)
  const elapsed = now - entry.at
  // A clock that went backwards gives no credit; a full window drains any debt up to capacity.
  return elapsed >= windowMs ? 0 : elapsed > 0 ? Math.max(0, stored - elapsed * limit) : stored
}

/** One consume (or peek) of `cost` units against the entry at `now`. */
export function stepGcra(entry: GcraEntry | null, now: number, limit: number, windowMs: number, cost: number): GcraStep {
  const capacity = windowMs * limit
  const debt = drainedDebt(entry, now, limit, windowMs)
  const newDebt = debt + cost * windowMs
  if (newDebt <= capacity) {
    const ttlMs = Math.ceil(newDebt / limit)
    return {
      allowed: true,
      remaining: Math.floor((capacity - newDebt) / windowMs),
      resetMs: ttlMs,
      retryAfterMs: 0,
      next: { at: now, debt: newDebt, limit, expiresAt: now + ttlMs },
    }
  }
  return {
    allowed: false,
    remaining: Math.floor((capacity - debt) / windowMs),
    resetMs: Math.ceil(debt / limit),
    retryAfterMs: Math.ceil((newDebt - capacity) / limit),
  }
}

/** Gives `cost` units back to the entry at `now`, never below an empty bucket. */
export function refundGcra(entry: GcraEntry | null, now: number, limit: number, windowMs: number, cost: number): GcraStep {
  const capacity = windowMs * limit
  const debt = drainedDebt(entry, now, limit, windowMs)
  const left = Math.max(0, debt - cost * windowMs)
  const ttlMs = Math.ceil(left / limit)
  return {
    allowed: true,
    remaining: Math.floor((capacity - left) / windowMs),
    resetMs: ttlMs,
    retryAfterMs: 0,
    next: left > 0 ? { at: now, debt: left, limit, expiresAt: now + ttlMs } : undefined,
  }
}

/** A stored value as a GCRA entry, or null when it is absent or not one. */
export function readEntry(value: unknown): GcraEntry | null {
  if (!value || typeof value !== 'object') return null
  const { at, debt, limit, expiresAt } = value as Record<string, unknown>
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
  if (!isCount(at) || !isCount(debt) || !isCount(limit) || limit < 1 || !isCount(expiresAt)) return null
  return { at, debt, limit, expiresAt }
}
