import { createError } from 'h3'
import { LRUCache } from 'lru-cache'
import type { H3Event } from 'h3'
import { useGatewayConfig } from '../config/gateway-config'
import { useGatewayStorage } from '../storage/gateway-storage'
import { toCanonicalJson } from '../content/item-etag'
import type { IdempotencyKey } from './idempotency-key'
import { isCockpitCallNotSent } from '../cockpit/cockpit-errors'
import { getItemLockTtl } from './item-lock'
import { callStateRedis, getStateRedisKey, runSerialised, sha256Hex, stateStoreUnavailable } from './state-store'

/** What a write answered, as it is replayed: status, JSON body text (`null`: none), and the item's ETag. */
export interface WriteAnswer {
  status: number
  body: string | null
  etag?: string
}

/** The record of one key: running (with its lease), done (with the answer), or of unknown outcome. */
type IdempotencyRecord
  = | { state: 'running', fingerprint: string, until: number, expiresAt: number }
    | ({ state: 'done', fingerprint: string, expiresAt: number } & WriteAnswer)
    | { state: 'unknown', fingerprint: string, expiresAt: number }

/** A write of which the gateway knows for sure that nothing reached Cockpit's store. */
// Failures that happen before anything is sent to Cockpit (the upstream guard refuses a call without sending it).
const KNOWN_NOT_WRITTEN = new Set(['RATE_LIMIT_UNAVAILABLE', 'SESSION_STORE_UNAVAILABLE', 'MISSING_KEY', 'CONFIG_INVALID', 'ITEM_BUSY', 'UPSTREAM_BUSY', 'UPSTREAM_CIRCUIT_OPEN'])

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** Waits for `promise`, at most `ms` (the timer is cleared either way). */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([promise, new Promise((resolve) => {
    timer = setTimeout(resolve, ms)
  })])
  clearTimeout(timer)
}

function fail(statusCode: number, statusMessage: string, code: string): Error {
  return createError({ statusCode, statusMessage, data: { code } })
}

/**
 * What identifies a request for its key: a hash of the method, the path (no query) and the body in
 * canonical JSON, so the same request sent again matches whatever order its fields came in.
 * @param method the HTTP method
 * @param path the request path
 * @param body the parsed body (`undefined` for none)
 */
export function getWriteFingerprint(method: string, path: string, body: unknown): Promise<string> {
  return sha256Hex(`${method} ${path.split('?', 1)[0]}\n${body === undefined ? '' : toCanonicalJson(body)}`)
}

function isRecord(value: unknown): value is IdempotencyRecord {
  const record = value as IdempotencyRecord | null
  return !!record && typeof record === 'object' && typeof record.fingerprint === 'string' && typeof record.expiresAt === 'number'
    && (record.state === 'running' || record.state === 'done' || record.state === 'unknown')
}

/** Claims `key` with `record`: `true` when this request now owns it, else the record already there (null: gone meanwhile). */
async function claim(key: string, record: IdempotencyRecord, ttl: number): Promise<true | IdempotencyRecord | null> {
  const redis = getStateRedisKey(key)
  if (redis) {
    const reply = await callStateRedis(() => redis.client.set(redis.redisKey, JSON.stringify(record), 'EX', ttl, 'NX'))
    if (reply === 'OK') return true
    const raw = await callStateRedis(() => redis.client.get(redis.redisKey))
    const existing = raw === null ? null : JSON.parse(raw) as unknown
    return isRecord(existing) ? existing : null
  }
  // Any other store is this instance's own: the in-process mutex makes the read and the write one step.
  // Not every driver honours a TTL (memory, fs), so an expired record counts as absent.
  return runSerialised(key, async () => {
    const storage = useGatewayStorage('state')
    const existing = await storage.getItem(key)
    if (isRecord(existing) && existing.expiresAt > Date.now()) return existing
    await storage.setItem(key, record, { ttl })
    return true
  })
}

/**
 * Writes or removes a record. On a store of one instance, through the same mutex as {@link claim}: a claim
 * must never read a record half written (the fs driver writes in place).
 */
function putRecord(key: string, record: IdempotencyRecord | null, ttl: number): Promise<void> {
  const storage = useGatewayStorage('state')
  const put = () => record ? storage.setItem(key, record, { ttl }) : storage.removeItem(key)
  return getStateRedisKey(key) ? put() : runSerialised(key, put)
}

// Writes running in this process by record key: a duplicate arriving here waits on it instead of polling.
const running = new Map<string, Promise<unknown>>()

// How the writes this instance ran ended, kept in memory too (bounded): should the store lose its data (a
// Redis restart without persistence, an eviction), a retry reaching this instance still finds its record
// instead of running the write a second time.
const finished = new LRUCache<string, Exclude<IdempotencyRecord, { state: 'running' }>>({
  max: 10_000,
  maxSize: 8 * 1024 * 1024,
  // What a record costs in V8, roughly: the key, the fingerprint, the ETag and the object around them, and
  // the body at two bytes a character (a text outside Latin-1 is stored so).
  sizeCalculation: record => 512 + (record.state === 'done' ? 2 * (record.body?.length ?? 0) : 0),
})

function getFinished(key: string, now: number): IdempotencyRecord | undefined {
  const record = finished.get(key)
  return record && record.expiresAt > now ? record : undefined
}

function replay(record: Extract<IdempotencyRecord, { state: 'done' }>): WriteAnswer & { replayed: true } {
  return { status: record.status, body: record.body, etag: record.etag, replayed: true }
}

/**
 * Runs a write at most once per user and `Idempotency-Key`. The first request claims the key (atomically:
 * `SET NX` on Redis, an in-process mutex on a store of one instance) and runs; a repeat with the same
 * fingerprint gets the stored answer without calling Cockpit; a repeat with another fingerprint is 422
 * `IDEMPOTENCY_KEY_REUSED`; a repeat while the first runs waits for it (a bounded time), then 409
 * `IDEMPOTENCY_IN_PROGRESS`. When the write fails and the gateway knows nothing was stored (a 4xx, a store
 * or config failure before the upstream write), the key is released, so a retry runs again; when the
 * outcome is unknown (Cockpit failed or timed out during the write), a create's key is kept as "unknown"
 * and answers 409 `IDEMPOTENCY_OUTCOME_UNKNOWN` (running it again could store the item twice), while an
 * update's or delete's is released (sending the same fields again, or deleting again, stores nothing twice).
 * A record still running past its lease (its instance died) is unknown too.
 * @param event the request
 * @param scope `userId` (keys are per user), `key`, the request's `fingerprint`, and whether the write is a create
 * @param scope.userId the session user's id
 * @param scope.key the validated key
 * @param scope.fingerprint see {@link getWriteFingerprint}
 * @param scope.create whether the write is a create (whose outcome cannot be checked afterwards)
 * @param write the write itself
 * @throws 503 `SESSION_STORE_UNAVAILABLE` when the state store cannot keep the record (fail closed)
 */
export async function runIdempotentWrite(
  event: H3Event,
  scope: { userId: string, key: IdempotencyKey, fingerprint: string, create: boolean },
  write: () => Promise<WriteAnswer>,
): Promise<WriteAnswer & { replayed: boolean }> {
  const config = useGatewayConfig(event)
  const ttl = config.writes.idempotencyTtl
  // The longest a write may run: its item lock and a few more upstream calls (permission, owner record).
  const lease = getItemLockTtl(config.cockpit.timeout) + 2 * config.cockpit.timeout
  const waitUntil = Date.now() + Math.min(lease, 10_000)
  const recordKey = `idempotency:${await sha256Hex(`${scope.userId}\n${scope.key}`)}`
  const { fingerprint } = scope
  for (let pause = 10; ; pause = Math.min(pause * 2, 250)) {
    const now = Date.now()
    let claimed: true | IdempotencyRecord | null | undefined = getFinished(recordKey, now)
    try {
      claimed ??= await claim(recordKey, { state: 'running', fingerprint, until: now + lease, expiresAt: now + ttl * 1000 }, ttl)
    }
    catch {
      throw stateStoreUnavailable()
    }
    if (claimed === true) break
    if (claimed === null) continue
    if (claimed.fingerprint !== fingerprint) throw fail(422, 'Idempotency key reused', 'IDEMPOTENCY_KEY_REUSED')
    if (claimed.state === 'done') return replay(claimed)
    if (claimed.state === 'unknown' || claimed.until < now) throw fail(409, 'Outcome unknown', 'IDEMPOTENCY_OUTCOME_UNKNOWN')
    if (now >= waitUntil) throw fail(409, 'Request in progress', 'IDEMPOTENCY_IN_PROGRESS')
    const local = running.get(recordKey)
    await (local ? waitAtMost(local, waitUntil - now) : sleep(pause))
  }
  return { ...await runClaimed(recordKey, scope, ttl, write), replayed: false }
}

async function runClaimed(recordKey: string, scope: { fingerprint: string, create: boolean }, ttl: number, write: () => Promise<WriteAnswer>): Promise<WriteAnswer> {
  // Settles once the record says how the write ended, so a waiter that wakes up finds the answer.
  let recorded!: () => void
  running.set(recordKey, new Promise<void>((resolve) => {
    recorded = resolve
  }))
  try {
    const answer = await write()
    // Kept even when the client has gone: its retry must find it. Should the store fail here, the record
    // stays "running" and becomes unknown after its lease: never a second write.
    const record = { state: 'done' as const, fingerprint: scope.fingerprint, expiresAt: Date.now() + ttl * 1000, ...answer }
    finished.set(recordKey, record)
    await putRecord(recordKey, record, ttl).catch(() => {})
    return answer
  }
  catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode
    const code = (error as { data?: { code?: unknown } }).data?.code
    // A refused connection counts too: the create's Cockpit call is the write's last one, so any call that
    // never left means the item was not stored.
    const knownNotWritten = (typeof status === 'number' && status < 500) || (typeof code === 'string' && KNOWN_NOT_WRITTEN.has(code)) || isCockpitCallNotSent(error)
    const next = knownNotWritten || !scope.create ? null : { state: 'unknown' as const, fingerprint: scope.fingerprint, expiresAt: Date.now() + ttl * 1000 }
    if (next) finished.set(recordKey, next)
    await putRecord(recordKey, next, ttl).catch(() => {})
    throw error
  }
  finally {
    running.delete(recordKey)
    recorded()
  }
}
