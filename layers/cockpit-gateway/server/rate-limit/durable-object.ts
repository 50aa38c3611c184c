import { createStorage } from 'unstorage'
import type { Driver, Storage } from 'unstorage'
import { consumeBackoff, peekBackoff, refundBackoff } from './backoff'
import { consumeRateLimit, peekRateLimit, refundRateLimit } from './rate-limit'
import type { DurableStateReplies, DurableStateRequest } from './durable-protocol'

// The gateway's Durable Object: one object per key (the driver names it with `idFromName`), so every
// isolate of every location that counts a key talks to the same single-threaded object, and a limit is
// exact and a revocation immediate across them. The limiter's maths is not repeated here: the object runs
// the gateway's own `consumeRateLimit`/`consumeBackoff` on an unstorage view of its transactional storage.
// That takes the limiter's "any other driver" path: read, step, write under a per-key lock of this
// process, and this process is the only one that holds the key, so it is exact. Input gates keep other
// events out while a storage call is pending, and output gates hold the answer until the write is durable.

/** The part of a Durable Object's `ctx.storage` used here (Workers' `DurableObjectStorage`). */
interface DurableObjectStorageLike {
  get(key: string): Promise<unknown>
  put(key: string, value: unknown): Promise<void>
  delete(key: string): Promise<boolean>
  list(options?: { prefix?: string }): Promise<Map<string, unknown>>
  setAlarm(scheduledTime: number): Promise<void>
}

/** The part of a Durable Object's `ctx` (`DurableObjectState`) used here. */
export interface DurableObjectStateLike {
  storage: DurableObjectStorageLike
}

// One key space per object: the limiter's entries and plain records share it, so a plain `removeItem` on a
// limiter key (a device bucket forgotten after a good login) removes the very entry the limiter counts.
// Only limiter entries carry `expiresAt`; the clean-up alarm deletes nothing else (revocation records have
// no TTL: they must outlive every cookie).

/** unstorage over an object's storage: the values unstorage hands a driver are strings already. */
function objectStorageDriver(storage: DurableObjectStorageLike): Driver {
  return {
    name: 'cockpit-gateway-durable-object-storage',
    async hasItem(key: string) {
      return (await storage.get(key)) !== undefined
    },
    async getItem(key: string) {
      return (await storage.get(key)) ?? null
    },
    async setItem(key: string, value: string) {
      await storage.put(key, value)
    },
    async removeItem(key: string) {
      await storage.delete(key)
    },
    async getKeys(base: string) {
      return [...(await storage.list({ prefix: base })).keys()]
    },
  }
}

const LIMITER_CALLS = {
  gcra: { consume: consumeRateLimit, peek: peekRateLimit, refund: refundRateLimit },
  backoff: { consume: consumeBackoff, peek: peekBackoff, refund: refundBackoff },
} as const

const MODES = new Set(['consume', 'peek', 'refund'])

/** A request the object cannot have been sent by the gateway: answered 400, nothing changes. */
class BadDurableRequest extends Error {}

function readRequest(body: unknown): DurableStateRequest {
  const r = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
  if (typeof r.key !== 'string' || !r.key) throw new BadDurableRequest('key')
  if (r.op === 'gcra' || r.op === 'backoff') {
    if (typeof r.mode !== 'string' || !MODES.has(r.mode) || !r.policy || typeof r.policy !== 'object') throw new BadDurableRequest('limiter call')
    return r as DurableStateRequest
  }
  if (r.op === 'get' || r.op === 'remove') return r as DurableStateRequest
  if ((r.op === 'set' || r.op === 'setIfAbsent') && typeof r.value === 'string') return r as DurableStateRequest
  throw new BadDurableRequest('op')
}

/**
 * The gateway's Durable Object class, exported from the worker entry on `cloudflare_module` (see
 * `cloudflare-entry.ts`); bind it in wrangler as the namespace named by `durableObjectBinding`. It holds,
 * per key, a limiter bucket (GCRA or failure backoff) or one record of the `state` area (a user's
 * revocation state, the epoch, an owner record). Reached only through its binding, with one JSON POST per call.
 */
export class CockpitGatewayState {
  private readonly storage: DurableObjectStorageLike
  private readonly limiter: Storage
  /** Whether this instance has scheduled the clean-up of expired limiter entries. */
  private cleanupScheduled = false

  /**
   * @param ctx the object's state (its storage)
   * @param _env the worker's bindings (unused)
   */
  constructor(ctx: DurableObjectStateLike, _env?: unknown) {
    this.storage = ctx.storage
    this.limiter = createStorage({ driver: objectStorageDriver(ctx.storage) })
  }

  /**
   * Answers one {@link DurableStateRequest} (JSON body) with its reply as JSON; 400 for a request the
   * gateway cannot have sent, 500 (fixed body) when the storage fails.
   * @param request the worker's call
   */
  async fetch(request: Request): Promise<Response> {
    let call: DurableStateRequest
    try {
      call = readRequest(await request.json())
    }
    catch {
      return Response.json({ error: 'bad request' }, { status: 400 })
    }
    try {
      return Response.json(await this.run(call))
    }
    catch (error) {
      // A bad policy or key is the caller's mistake; anything else the storage's. Neither says more.
      const status = error instanceof RangeError || error instanceof TypeError ? 400 : 500
      return Response.json({ error: status === 400 ? 'bad request' : 'storage failed' }, { status })
    }
  }

  /** Drops the limiter entries whose `expiresAt` passed (the bucket is full again); records without one stay. */
  async alarm(): Promise<void> {
    this.cleanupScheduled = false
    const now = Date.now()
    let latest = 0
    for (const [key, raw] of await this.storage.list()) {
      const expiresAt = readExpiresAt(raw)
      if (expiresAt === undefined) continue
      if (expiresAt <= now) await this.storage.delete(key)
      else latest = Math.max(latest, expiresAt)
    }
    if (latest) await this.scheduleCleanup(latest)
  }

  private async run(call: DurableStateRequest): Promise<DurableStateReplies[DurableStateRequest['op']]> {
    switch (call.op) {
      case 'gcra':
      case 'backoff': {
        const run = LIMITER_CALLS[call.op][call.mode] as (storage: Storage, key: string, policy: unknown, options: { cost?: number, now?: number }) => Promise<DurableStateReplies['gcra' | 'backoff']>
        // No `now` from the worker (the gateway never passes one): this object's clock is the one clock of the key.
        const now = typeof call.now === 'number' ? call.now : undefined
        const result = await run(this.limiter, call.key, call.policy, call.op === 'gcra' ? { cost: call.cost, now } : { now })
        if (call.mode !== 'peek' && !this.cleanupScheduled) {
          // Buckets of clients that never come back would stay forever: one alarm per object clears them.
          const policy = call.policy as { window: number, maxDelay?: number }
          await this.scheduleCleanup(Date.now() + (policy.window + (policy.maxDelay ?? 0)) * 1000)
        }
        return result
      }
      case 'get':
        return { value: toStoredString(await this.storage.get(call.key)) }
      case 'set':
        await this.storage.put(call.key, call.value)
        return { value: call.value }
      case 'remove':
        await this.storage.delete(call.key)
        return { value: null }
      case 'setIfAbsent':
        // Input gates already keep other events out between this read and write; the chain makes the
        // first caller's value win without relying on them.
        return this.exclusive(async () => {
          const current = toStoredString(await this.storage.get(call.key))
          if (current !== null) return { value: current }
          await this.storage.put(call.key, call.value)
          return { value: call.value }
        })
    }
  }

  private chain: Promise<unknown> = Promise.resolve()

  /** Runs `task` after every earlier exclusive task of this object. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task)
    this.chain = run.catch(() => {})
    return run
  }

  private async scheduleCleanup(at: number): Promise<void> {
    this.cleanupScheduled = true
    await this.storage.setAlarm(at)
  }
}

function toStoredString(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function readExpiresAt(raw: unknown): number | undefined {
  try {
    const value = typeof raw === 'string' ? JSON.parse(raw) as unknown : raw
    const expiresAt = (value as { expiresAt?: unknown } | null)?.expiresAt
    return typeof expiresAt === 'number' && Number.isFinite(expiresAt) ? expiresAt : undefined
  }
  catch {
    return undefined
  }
}
