/**
 * Where the gateway's routes live in this app (the layer's `cockpitGateway.prefix` / `authPrefix`).
 * @public
 */
export interface CockpitRoutes {
  /** e.g. `/api/cockpit/items/posts` */
  items: (model: string) => string
  /** e.g. `/api/cockpit/items/posts/abc` */
  item: (model: string, id: string) => string
  /** e.g. `/api/cockpit/singletons/settings` */
  singleton: (name: string) => string
  /** HTML form twin of a singleton update, e.g. `/api/cockpit/form-posts/singletons/settings/update` */
  singletonFormPost: (name: string) => string
  /** e.g. `/api/cockpit/images/<asset id>` (add the query with `useCockpitImage`) */
  image: (id: string) => string
  /** e.g. `/api/cockpit/assets/<asset id>` */
  asset: (id: string) => string
  /** HTML form twin of a write, e.g. `/api/cockpit/form-posts/posts/create`, `/api/cockpit/form-posts/posts/abc/update` */
  formPost: (model: string, action: 'create' | 'update' | 'delete', id?: string) => string
  /** e.g. `/api/auth/login` */
  auth: (action: 'login' | 'logout' | 'logout-all' | 'oidc') => string
}

/**
 * URLs of the gateway's routes, honouring prefixes configured in nuxt.config.
 * @example <form method="post" :action="useCockpitRoutes().auth('login')">
 * @public
 */
export function useCockpitRoutes(): CockpitRoutes {
  const { prefix, authPrefix } = useRuntimeConfig().public.cockpitGateway as { prefix: string, authPrefix: string }
  return {
    items: model => `${prefix}/items/${encodeURIComponent(model)}`,
    item: (model, id) => `${prefix}/items/${encodeURIComponent(model)}/${encodeURIComponent(id)}`,
    singleton: name => `${prefix}/singletons/${encodeURIComponent(name)}`,
    singletonFormPost: name => `${prefix}/form-posts/singletons/${encodeURIComponent(name)}/update`,
    image: id => `${prefix}/images/${encodeURIComponent(id)}`,
    asset: id => `${prefix}/assets/${encodeURIComponent(id)}`,
    formPost: (model, action, id) => `${prefix}/form-posts/${encodeURIComponent(model)}${action === 'create' ? '' : `/${encodeURIComponent(id ?? '')}`}/${action}`,
    auth: action => `${authPrefix}/${action}`,
  }
}
