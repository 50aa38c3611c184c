/** Where the gateway's routes live in this app (the layer's `cockpitGateway.prefix` / `authPrefix`). */
export interface CockpitRoutes {
  /** e.g. `/api/cockpit/items/posts` */
  items: (model: string) => string
  /** e.g. `/api/cockpit/items/posts/abc` */
  item: (model: string, id: string) => string
  /** e.g. `/api/auth/login` */
  auth: (action: 'login' | 'logout' | 'logout-all' | 'oidc') => string
}

/**
 * URLs of the gateway's routes, honouring prefixes configured in nuxt.config.
 * @example <form method="post" :action="useCockpitRoutes().auth('login')">
 */
export function useCockpitRoutes(): CockpitRoutes {
  const { prefix, authPrefix } = useRuntimeConfig().public.cockpitGateway as { prefix: string, authPrefix: string }
  return {
    items: model => `${prefix}/items/${encodeURIComponent(model)}`,
    item: (model, id) => `${prefix}/items/${encodeURIComponent(model)}/${encodeURIComponent(id)}`,
    auth: action => `${authPrefix}/${action}`,
  }
}
