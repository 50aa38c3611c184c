import type { CockpitSingleton, CockpitSingletonValue } from '../../shared/utils/cockpit-singleton'
import type { CockpitReadError } from './useCockpitItems'

/**
 * Reads a singleton's value (its declared fields) through the gateway, typed from its schema. Works in
 * SSR, prerendering and the browser; on a prerendered page the value baked in at build time is shown
 * first and read again once the page is hydrated, so an edit made since the build shows up.
 * @param singleton the declared singleton
 * @example const { data: site } = await useCockpitSingleton(settings) // site.value?.siteTitle
 */
export function useCockpitSingleton<S extends CockpitSingleton>(singleton: S) {
  const routes = useCockpitRoutes()
  const nuxtApp = useNuxtApp()
  const result = useFetch<CockpitSingletonValue<S>, CockpitReadError>(routes.singleton(singleton.name), {
    key: `cockpit:singleton:${singleton.name}`,
  })
  // Only a prerendered page can be older than Cockpit's value; a page rendered per request is fresh. Once the
  // app is ready, not on mount: a refresh while hydrating would reuse the payload.
  if (import.meta.client && nuxtApp.payload.prerenderedAt) {
    onNuxtReady(() => {
      void result.refresh()
    })
  }
  return result
}
