import { addTypeTemplate, createResolver, defineNuxtModule } from '@nuxt/kit'

/**
 * Wires what a layer's config alone cannot: the gateway's JSON error handler runs before Nuxt's HTML one
 * (only for the gateway's own routes; every other error still reaches Nuxt's error page).
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
    })
  },
})
