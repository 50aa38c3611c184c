import { addTypeTemplate, createResolver, defineNuxtModule } from '@nuxt/kit'

/**
 * Wires what a layer's config alone cannot:
 * - the gateway's JSON error handler runs before Nuxt's HTML one (only for the gateway's own routes;
 *   every other error still reaches Nuxt's error page);
 * - nuxt-auth-utils' `/api/_auth/session` handlers are replaced by the gateway's: its GET would seal and
 *   set an empty cookie for every anonymous visitor and knows nothing of idle timeout or revocation, and
 *   its DELETE would clear the cookie without revoking it.
 */
export default defineNuxtModule({
  meta: { name: 'cockpit-gateway' },
  setup(_options, nuxt) {
    const { resolve } = createResolver(import.meta.url)
    // The typed `User` (#auth-utils augmentation) reaches the app, the server and the consuming app alike.
    addTypeTemplate({
      filename: 'types/cockpit-gateway-auth.d.ts',
      getContents: () => `/// <reference path=${JSON.stringify(resolve('../types/cockpit-auth.d.ts'))} />\nexport {}\n`,
    }, { nitro: true, nuxt: true })
    nuxt.hook('nitro:config', (config) => {
      const existing = config.errorHandler ? [config.errorHandler].flat() : []
      config.errorHandler = [resolve('../server/error-handler'), ...existing] as unknown as string
      config.handlers = (config.handlers ?? []).filter(handler => handler?.route !== '/api/_auth/session')
      config.handlers.push(
        { route: '/api/_auth/session', method: 'get', handler: resolve('../server/handlers/session.get') },
        { route: '/api/_auth/session', method: 'delete', handler: resolve('../server/handlers/session.delete') },
      )
    })
  },
})
