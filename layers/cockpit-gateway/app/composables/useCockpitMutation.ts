import { ref } from 'vue'
import type { z } from 'zod'
import type { CockpitModel, CockpitModelItem } from '../../shared/utils/cockpit-model'
import { toGatewayError } from '../internal/gateway-error'

/**
 * A gateway error as the browser receives it.
 * @public
 */
export interface CockpitGatewayError {
  statusCode: number
  statusMessage: string
  data: { code: string, issues?: { path: (string | number)[], code: string, message: string }[], retryAfter?: number }
  /** On a 409 `CONFLICT`: the item's current ETag (reload the item to get its content). */
  etag?: string
}

/** Options of an update or a delete. */
export interface CockpitWriteOptions {
  /** The ETag the item had when it was read (`useCockpitItem`'s `etag`): the write is refused with 409 `CONFLICT` if it changed since. */
  ifMatch?: string | null
}

/** A fresh `Idempotency-Key` (`crypto.randomUUID` needs a secure context; plain-http pages get random bytes). */
function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), byte => byte.toString(16).padStart(2, '0')).join('')
}

// Statuses after which the same request may be sent again: the gateway never answered with a verdict, or
// Cockpit was unreachable. The retry carries the same Idempotency-Key, so it runs at most once in all.
const RETRY_STATUS_CODES = [408, 502, 503, 504]

/**
 * Create, update and delete items of a model through the gateway, with pending and error state.
 * Errors keep the gateway's stable `data.code` and field `issues`. Each call (one user action) sends a fresh
 * `Idempotency-Key` and reuses it on its own retries (up to 2, on a network error, 408, 502, 503 or 504), so a
 * retried save is stored once. Updates and deletes take `ifMatch` (optimistic concurrency); `etag` holds the
 * ETag of the item the last create or update answered.
 * @param model the declared model
 * @example const { create, pending, error } = useCockpitMutation(posts)
 * @example await update(id, { title }, { ifMatch: etag.value }) // 409 CONFLICT when someone else saved first
 * @public
 */
export function useCockpitMutation<M extends CockpitModel>(model: M) {
  type Item = CockpitModelItem<M>
  type Input = z.input<M['schema']>
  const pending = ref(false)
  const error = ref<CockpitGatewayError | null>(null)
  const etag = ref<string | null>(null)
  const routes = useCockpitRoutes()

  async function send<T>(url: string, method: 'POST' | 'PATCH' | 'DELETE', body?: Record<string, unknown>, options: CockpitWriteOptions = {}): Promise<T> {
    pending.value = true
    error.value = null
    const headers: Record<string, string> = { 'idempotency-key': newIdempotencyKey() }
    if (options.ifMatch) headers['if-match'] = options.ifMatch
    try {
      // The same options object on every retry: the same key.
      const response = await $fetch.raw<T>(url, { method, body, headers, retry: 2, retryDelay: 500, retryStatusCodes: RETRY_STATUS_CODES })
      etag.value = response.headers.get('etag')
      return response._data as T
    }
    catch (caught) {
      error.value = toGatewayError(caught)
      throw error.value
    }
    finally {
      pending.value = false
    }
  }

  return {
    pending,
    error,
    etag,
    /** Stores a new item; resolves it as stored. */
    create: (data: Input) => send<Item>(routes.items(model.name), 'POST', data),
    /** Updates some fields; resolves the full stored item. `ifMatch`: refused (409 `CONFLICT`) when the item changed since. */
    update: (id: string, data: Partial<Input>, options?: CockpitWriteOptions) => send<Item>(routes.item(model.name, id), 'PATCH', data, options),
    /** Deletes an item. `ifMatch`: refused (409 `CONFLICT`) when the item changed since. */
    remove: (id: string, options?: CockpitWriteOptions) => send<null>(routes.item(model.name, id), 'DELETE', undefined, options),
  }
}
