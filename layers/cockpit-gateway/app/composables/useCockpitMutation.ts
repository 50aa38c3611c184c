import { ref } from 'vue'
import type { z } from 'zod'
import type { CockpitModel, CockpitModelItem } from '../../shared/utils/cockpit-model'

/**
 * A gateway error as the browser receives it.
 * @public
 */
export interface CockpitGatewayError {
  statusCode: number
  statusMessage: string
  data: { code: string, issues?: { path: (string | number)[], code: string, message: string }[], retryAfter?: number }
}

function toGatewayError(error: unknown): CockpitGatewayError {
  const data = (error as { data?: Partial<CockpitGatewayError> }).data
  if (data && typeof data.statusCode === 'number' && data.data?.code) return data as CockpitGatewayError
  return { statusCode: 0, statusMessage: 'Network error', data: { code: 'NETWORK_ERROR' } }
}

/**
 * Create, update and delete items of a model through the gateway, with pending and error state.
 * Errors keep the gateway's stable `data.code` and field `issues`.
 * @param model the declared model
 * @example const { create, pending, error } = useCockpitMutation(posts)
 * @public
 */
export function useCockpitMutation<M extends CockpitModel>(model: M) {
  type Item = CockpitModelItem<M>
  type Input = z.input<M['schema']>
  const pending = ref(false)
  const error = ref<CockpitGatewayError | null>(null)
  const routes = useCockpitRoutes()

  async function run<T>(call: () => Promise<T>): Promise<T> {
    pending.value = true
    error.value = null
    try {
      return await call()
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
    /** Stores a new item; resolves it as stored. */
    create: (data: Input) => run(() => $fetch<Item>(routes.items(model.name), { method: 'POST', body: data })),
    /** Updates some fields; resolves the full stored item. */
    update: (id: string, data: Partial<Input>) => run(() => $fetch<Item>(routes.item(model.name, id), { method: 'PATCH', body: data })),
    /** Deletes an item. */
    remove: (id: string) => run(() => $fetch(routes.item(model.name, id), { method: 'DELETE' })),
  }
}
