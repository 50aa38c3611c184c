import { addServerHandler, addTypeTemplate, createResolver, defineNuxtModule } from '@nuxt/kit'
import { defu } from 'defu'
import type { Nitro, NitroConfig } from 'nitropack/types'

/** Build-time options of the layer (`cockpitGateway` in nuxt.config). */
export interface CockpitGatewayModuleOptions {
  /** Prefix of the content routes. @default '/api/cockpit' */
  prefix: string
  /** Prefix of the login/logout routes. @default '/api/auth' */
  authPrefix: string
}

function checkPrefix(name: string, value: string): string {
  if (!/^\/[\w-]+(?:\/[\w-]+)*$/.test(value)) throw new Error(`cockpitGateway.${name} must be a path like /api/cockpit (got ${JSON.stringify(value)})`)
  return value
}

/**
 * Wires what a layer's config alone cannot:
 * - the gateway's routes, under configurable prefixes;
 * - the gateway's JSON error handler runs before Nuxt's HTML one (only for the gateway's own routes;
 *   every other error still reaches Nuxt's error page);
 * - nuxt-auth-utils' `/api/_auth/session` handlers are replaced by the gateway's: its GET would seal and
 *   set an empty cookie for every anonymous visitor and knows nothing of idle timeout or revocation, and
 *   its DELETE would clear the cookie without revoking it;
 * - the typed `User` for every app that extends the layer;
 * - on `cloudflare_module`, a worker entry that also exports the gateway's Durable Object class.
 */
export default defineNuxtModule<CockpitGatewayModuleOptions>({
  meta: { name: 'cockpit-gateway', configKey: 'cockpitGateway' },
  defaults: { prefix: '/api/cockpit', authPrefix: '/api/auth' },
  setup(options, nuxt) {
    const { resolve } = createResolver(import.meta.url)
    const prefix = checkPrefix('prefix', options.prefix)
    const authPrefix = checkPrefix('authPrefix', options.authPrefix)
    // Not secret: the composables need to know where the routes are.
    nuxt.options.runtimeConfig.public.cockpitGateway = defu(nuxt.options.runtimeConfig.public.cockpitGateway as object, { prefix, authPrefix })

    const handler = (file: string) => resolve(`../server/handlers/${file}`)
    addServerHandler({ route: `${prefix}/items/:model`, method: 'get', handler: handler('cockpit/items-list.get') })
    addServerHandler({ route: `${prefix}/items/:model`, method: 'post', handler: handler('cockpit/items-create.post') })
    addServerHandler({ route: `${prefix}/items/:model/:id`, method: 'get', handler: handler('cockpit/item-get.get') })
    addServerHandler({ route: `${prefix}/items/:model/:id`, method: 'patch', handler: handler('cockpit/item-update.patch') })
    addServerHandler({ route: `${prefix}/items/:model/:id`, method: 'delete', handler: handler('cockpit/item-delete.delete') })
    addServerHandler({ route: `${prefix}/webhook`, method: 'post', handler: handler('cockpit/webhook.post') })
    addServerHandler({ route: `${prefix}/singletons/:name`, method: 'get', handler: handler('cockpit/singleton-get.get') })
    addServerHandler({ route: `${prefix}/singletons/:name`, method: 'patch', handler: handler('cockpit/singleton-update.patch') })
    addServerHandler({ route: `${prefix}/images/:id`, method: 'get', handler: handler('cockpit/image-get.get') })
    addServerHandler({ route: `${prefix}/assets/:id`, method: 'get', handler: handler('cockpit/asset-get.get') })
    addServerHandler({ route: `${prefix}/assets`, method: 'post', handler: handler('cockpit/assets-upload.post') })
    // HTML form twins of the writes (no JavaScript): a path of their own, so no item id can shadow them.
    addServerHandler({ route: `${prefix}/form-posts/:model/create`, method: 'post', handler: handler('form-posts/item-create.post') })
    addServerHandler({ route: `${prefix}/form-posts/:model/:id/update`, method: 'post', handler: handler('form-posts/item-update.post') })
    addServerHandler({ route: `${prefix}/form-posts/:model/:id/delete`, method: 'post', handler: handler('form-posts/item-delete.post') })
    // Public form submissions (anonymous visitors): a POST and its token, never a read.
    addServerHandler({ route: `${prefix}/forms/:name`, method: 'post', handler: handler('forms/submit.post') })
    addServerHandler({ route: `${prefix}/forms/:name/token`, method: 'get', handler: handler('forms/token.get') })
    // The static `singletons` segment wins over `:model`: a model named `singletons` has no form twins.
    addServerHandler({ route: `${prefix}/form-posts/singletons/:name/update`, method: 'post', handler: handler('form-posts/singleton-update.post') })
    addServerHandler({ route: `${prefix}/health/live`, method: 'get', handler: handler('health/live.get') })
    addServerHandler({ route: `${prefix}/health/ready`, method: 'get', handler: handler('health/ready.get') })
    addServerHandler({ route: `${prefix}/**`, handler: handler('cockpit/not-found') })
    addServerHandler({ route: `${authPrefix}/login`, method: 'post', handler: handler('auth/login.post') })
    addServerHandler({ route: `${authPrefix}/logout`, method: 'post', handler: handler('auth/logout.post') })
    addServerHandler({ route: `${authPrefix}/logout-all`, method: 'post', handler: handler('auth/logout-all.post') })
    addServerHandler({ route: `${authPrefix}/oidc`, method: 'get', handler: handler('auth/oidc.get') })
    addServerHandler({ route: `${authPrefix}/**`, handler: handler('auth/not-found') })

    addTypeTemplate({
      filename: 'types/cockpit-gateway-auth.d.ts',
      getContents: () => `/// <reference path=${JSON.stringify(resolve('../types/cockpit-auth.d.ts'))} />\nexport {}\n`,
    }, { nitro: true, nuxt: true })

    nuxt.hook('nitro:init', (nitroInstance) => {
      // Typed from nitropack itself, as in `nitro:config` below (a second @nuxt/schema types the hook's fallback).
      const nitro = nitroInstance as unknown as Nitro
      // Workers bind a Durable Object class only when the worker's entry module exports it, and Nitro's
      // `cloudflare_module` entry exports just the fetch handler. The least intrusive way in is Nitro's own
      // `entry` option: a two-line module that re-exports the preset's entry and adds the class (no
      // patch, no rollup hook rewriting the bundle). A user's own entry is left alone, with a warning.
      if (nitro.options.preset !== 'cloudflare-module') return
      if (/[/\\]presets[/\\]cloudflare[/\\]runtime[/\\]cloudflare-module(?:\.mjs)?$/.test(nitro.options.entry)) {
        nitro.options.entry = resolve('../server/rate-limit/cloudflare-entry.ts')
      }
      else {
        console.warn('[cockpit-gateway] a custom Nitro entry is set: export `CockpitGatewayState` from it (`export { CockpitGatewayState } from \'<layer>/server/rate-limit/durable-object\'`) to use durableObjectBinding')
      }
    })

    nuxt.hook('nitro:config', (nitroConfig) => {
      // Typed from nitropack itself: in an app whose tree holds a second @nuxt/schema (a fresh install of nuxt
      // 4.4.5 gets one through @nuxt/cli) the hook's type is schema's fallback, and `nuxi typecheck` would fail here.
      const config = nitroConfig as NitroConfig
      const existing = config.errorHandler ? [config.errorHandler].flat() : []
      config.errorHandler = [resolve('../server/error-handler'), ...existing] as unknown as string
      config.handlers = (config.handlers ?? []).filter(entry => entry?.route !== '/api/_auth/session')
      config.handlers.push(
        { route: '/api/_auth/session', method: 'get', handler: handler('session.get') },
        { route: '/api/_auth/session', method: 'delete', handler: handler('session.delete') },
      )
    })
  },
})
