import { computed, toValue } from 'vue'
import type { MaybeRefOrGetter } from 'vue'
import type { CockpitModel, CockpitModelItem } from '../../shared/utils/cockpit-model'
import type { CockpitGatewayError } from './useCockpitMutation'

/**
 * `error` of a failed read: Nuxt's error, whose `data` is the gateway's error body (`data.data.code`).
 * Declared here because Nuxt's default changed (ofetch's `FetchError<any>` up to 4.4, `NuxtError<unknown>` from 4.5).
 * @public
 */
export interface CockpitReadError extends Error {
  statusCode?: number
  statusMessage?: string
  data?: CockpitGatewayError
}

/**
 * List query, as the gateway accepts it.
 * @public
 */
export interface CockpitItemsQuery {
  /** Mongo-style filter on the model's filterable fields (sent as JSON). */
  filter?: Record<string, unknown>
  /** `field` or `-field`, comma-separated. */
  sort?: string
  limit?: number
  skip?: number
  /** Field names to return. */
  fields?: string[]
  locale?: string
}

/**
 * Reads a page of a model's items through the gateway, typed from the model's schema; works in SSR,
 * prerendering and the browser alike.
 * @param model the declared model (or its name)
 * @param query reactive list query
 * @example const { data } = await useCockpitItems(posts, { sort: '-_created', limit: 10 })
 * @public
 */
export function useCockpitItems<M extends CockpitModel>(model: M, query: MaybeRefOrGetter<CockpitItemsQuery> = {}) {
  const routes = useCockpitRoutes()
  const params = computed(() => {
    const q = toValue(query)
    return {
      ...(q.filter ? { filter: JSON.stringify(q.filter) } : {}),
      ...(q.sort ? { sort: q.sort } : {}),
      ...(q.limit !== undefined ? { limit: q.limit } : {}),
      ...(q.skip !== undefined ? { skip: q.skip } : {}),
      ...(q.fields ? { fields: q.fields.join(',') } : {}),
      ...(q.locale ? { locale: q.locale } : {}),
    }
  })
  return useFetch<{ items: CockpitModelItem<M>[], total: number }, CockpitReadError>(routes.items(model.name), {
    query: params,
    key: computed(() => `cockpit:${model.name}:${JSON.stringify(params.value)}`),
  })
}

/**
 * Reads one item through the gateway, typed from the model's schema. `etag` is the item's ETag as read
 * (kept from server rendering to the browser), for `useCockpitMutation`'s `ifMatch`.
 * @param model the declared model
 * @param id reactive item id
 * @example const { data: post, etag, refresh } = await useCockpitItem(posts, id)
 * @public
 */
export function useCockpitItem<M extends CockpitModel>(model: M, id: MaybeRefOrGetter<string>) {
  const routes = useCockpitRoutes()
  const etag = useState<string | null>(`cockpit:${model.name}:item-etag:${toValue(id)}`, () => null)
  const request = useFetch<CockpitModelItem<M>, CockpitReadError>(() => routes.item(model.name, toValue(id)), {
    key: computed(() => `cockpit:${model.name}:item:${toValue(id)}`),
    onResponse({ response }) {
      if (response.ok) etag.value = response.headers.get('etag')
    },
  })
  // Both the awaited result and the pending one carry `etag`, as useFetch's own refs do.
  const withEtag = request.then(result => Object.assign(result, { etag }))
  return Object.assign(withEtag, request, { etag }) as typeof withEtag & Awaited<typeof withEtag>
}
